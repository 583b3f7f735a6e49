/// @file calibration.h
/// @brief INT8 calibration: user data (CalibDataInterface), the calibrator (ICalibrator)
///        and the calibration table it saves and loads (docs/calibration.md).
///
/// Calibration runs the network in FP32 over sample batches the user provides, keeps
/// streaming statistics of every tensor an INT8 build quantizes (running min / max and a
/// histogram of |x|, never the activations themselves) and turns them into a range
/// [min, max] per tensor with the chosen algorithm. The ranges are written into the
/// network (the builder derives quantization parameters from them) and kept as a
/// calibration table, a JSON file tied to the network by a fingerprint.
///
/// Typical use:
/// @code
///   MyImages images("calib/*.png");           // a CalibDataInterface subclass
///   auto calibrator = qsdk::CreateICalibrator();
///   qsdk::CalibrationOptions options;
///   options.algorithm = qsdk::CalibrationAlgorithm::kEntropy;
///   qsdk::Status s = calibrator->Calibrate(network.get(), {&images}, options);
///   if (s.ok()) s = calibrator->SaveTable("model.calib.json");
///   // Later, without the data: LoadTable("model.calib.json") then ApplyTable(network).
/// @endcode
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qsdk/builder_config.h"
#include "qsdk/data_type.h"
#include "qsdk/dims.h"
#include "qsdk/export.h"
#include "qsdk/network.h"
#include "qsdk/status.h"

namespace qsdk {

/// @brief Calibration samples for one network input; subclassed by the user.
///
/// The calibrator drives one object per network input, all in lockstep:
/// Reset() once, then for each batch Next() followed by GetShape(), GetDataType() and
/// GetSample(). The first Next() makes the first batch current; Next() returns
/// StatusCode::kOutOfRange when there is no further batch. Every input must run out at
/// the same batch (a mismatch is an error).
///
/// Lifetime: the object is borrowed for the duration of ICalibrator::Calibrate only.
/// Thread-safety: its methods are called from the thread that called Calibrate, one at a
/// time; it need not be thread-safe.
class QSDK_API CalibDataInterface {
 public:
  virtual ~CalibDataInterface() = default;
  /// @brief Shape of the current batch. It must have the network input's rank and its
  ///        fixed extents; a dynamic (-1) extent of the input may take any value >= 1, and
  ///        may change from batch to batch.
  virtual Dims GetShape() const = 0;
  /// @brief Element type of the current batch; must equal the network input's type.
  virtual DataType GetDataType() const = 0;
  /// @brief Advances to the next batch (the first call selects the first batch).
  /// @return Ok, StatusCode::kOutOfRange when the data is exhausted, or any other status
  ///         to abort calibration with that error.
  virtual Status Next() = 0;
  /// @brief Rewinds to before the first batch. Called once at the start of Calibrate.
  virtual Status Reset() = 0;
  /// @brief The current batch: GetShape().GetElementCount() dense row-major elements of
  ///        GetDataType(). Owned by this object and valid until the next Next() or
  ///        Reset(); only read by the calibrator. Every value must be finite.
  virtual void* GetSample() = 0;
};

/// @brief How a tensor's range is derived from its statistics (docs/calibration.md).
enum class CalibrationAlgorithm : int32_t {
  /// The exact range observed over all samples. Never clips; sensitive to outliers.
  kMinMax = 0,
  /// TensorRT-style entropy calibration: the threshold on |x| that minimizes the KL
  /// divergence between the histogram and its 128-level quantized version.
  kEntropy = 1,
  /// The threshold on |x| below which CalibrationOptions::percentile percent of the
  /// observed values lie.
  kPercentile = 2,
  /// The threshold on |x| minimizing the expected squared quantization error (rounding
  /// inside the range plus clipping outside it), evaluated on the histogram.
  kMse = 3,
};

/// @brief Stable lower-case name of @p algorithm as written in calibration tables
///        ("minmax", "entropy", "percentile", "mse"); "invalid" for other values.
QSDK_API const char* CalibrationAlgorithmName(CalibrationAlgorithm algorithm);

/// @brief Parameters of ICalibrator::Calibrate. Every field has a usable default.
struct CalibrationOptions {
  /// Algorithm turning statistics into ranges (the builder configuration's default too).
  CalibrationAlgorithm algorithm = CalibrationAlgorithm::kEntropy;
  /// kPercentile: percentage of |x| values kept inside the range, in (0, 100].
  double percentile = 99.99;
  /// Bins of each tensor's |x| histogram, in [128, 65536]. More bins resolve the
  /// distribution more finely; statistics memory is 8 bytes per bin per tensor,
  /// independent of the number of samples. The entropy and MSE searches evaluate at
  /// most 2048 thresholds (every bin edge up to 2048 bins, evenly strided beyond).
  int histogram_bins = 2048;
  /// Largest number of batches to run; -1 runs until the data is exhausted.
  /// Otherwise >= 1.
  int64_t max_samples = -1;
  /// kMinMax only: for tensors of rank >= 2 whose axis 1 has a fixed extent, one range
  /// per channel along axis 1 instead of one per tensor. Other tensors get one range.
  bool per_channel = false;
  /// Called on the calling thread after each batch with the number of batches done and
  /// the total (max_samples, or -1 when it is not set). May be empty.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// @brief Computes ranges for a network's tensors from sample data, and saves, loads and
///        applies calibration tables.
///
/// Ranges written into a network: every non-constant tensor an INT8 build of the network
/// quantizes (the tensors of its FP32 graph after the builder's passes: network inputs
/// and the outputs of the remaining nodes) gets its computed range; a tensor whose range
/// the user set keeps it; every other calibrated range of the network is cleared, so a
/// network never mixes ranges from two calibrations. ITensor::GetDynamicRange reads them.
///
/// Lifetime: the calibrator owns its table; the network and the data are borrowed for
/// the duration of a call. Thread-safety: not thread-safe; use one calibrator from one
/// thread at a time, and do not use the network from another thread during a call.
class QSDK_API ICalibrator {
 public:
  virtual ~ICalibrator() = default;
  /// @brief Runs the FP32 network over every batch of @p data (one object per network
  ///        input, in INetwork::GetInputs() order), writes the ranges into @p network
  ///        and keeps them as this calibrator's table (replacing any previous one).
  ///
  /// Fails, changing neither the network nor the table, on: a null network or one not
  /// made by CreateINetwork; invalid options; a data count different from the number of
  /// inputs or a null data object; a batch whose shape, type or sample pointer does not
  /// fit its input; a NaN or infinity in a sample or in any computed tensor; no batch at
  /// all; inputs running out at different batches; an error from the data object.
  virtual Status Calibrate(INetwork* network, const std::vector<CalibDataInterface*>& data,
                           const CalibrationOptions& options) = 0;
  /// @brief Writes the table (JSON; format in docs/calibration.md) to @p path.
  ///        Fails with kFailedPrecondition when there is no table yet.
  virtual Status SaveTable(const std::string& path) const = 0;
  /// @brief Reads and validates the table at @p path (every field, with its JSON path in
  ///        the message) and makes it this calibrator's table. On failure the previous
  ///        table is kept.
  virtual Status LoadTable(const std::string& path) = 0;
  /// @brief Writes the table's ranges into @p network, after checking that the table was
  ///        made for this network (same fingerprint; a stale table is an error saying
  ///        so) and that every tensor it names exists, is not constant and fits the range's
  ///        axis. All-or-nothing: on failure the network is unchanged.
  virtual Status ApplyTable(INetwork* network) const = 0;
  /// @brief True once Calibrate or LoadTable succeeded.
  virtual bool HasTable() const = 0;
};

/// @brief Creates a calibrator without a table.
QSDK_API std::unique_ptr<ICalibrator> CreateICalibrator();

/// @brief Fills @p options from the `/calibration` section of @p config (algorithm,
///        percentile, histogram_bins, max_samples; docs/precision_config.md). The progress
///        callback and per_channel are left as they are. Fails when @p config was not
///        made by CreateIBuilderConfig or @p options is null.
QSDK_API Status CalibrationOptionsFromConfig(const IBuilderConfig& config,
                                             CalibrationOptions* options);

/// @brief The fingerprint of @p network as 16 lower-case hex digits: xxHash64 of a
///        canonical encoding of what the network computes (node types, names, attributes
///        and connections; tensor names, types, shapes and constant bytes; inputs and
///        outputs). Tensor ranges and precision requests are not part of it.
///        Fails when @p hex is null or the network was not made by CreateINetwork.
QSDK_API Status ComputeNetworkFingerprint(const INetwork& network, std::string* hex);

}  // namespace qsdk
