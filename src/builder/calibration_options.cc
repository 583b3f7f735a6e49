// The bridge from the builder configuration's /calibration section to the calibrator's
// options, so that a JSON config drives calibration as it drives the build.
#include "builder/build_options.h"
#include "common/status_macros.h"
#include "qsdk/calibration.h"

namespace qsdk {

Status CalibrationOptionsFromConfig(const IBuilderConfig& config, CalibrationOptions* options) {
  if (options == nullptr) return InvalidArgument("CalibrationOptionsFromConfig: options is null");
  const auto* impl = dynamic_cast<const builder::BuilderConfigImpl*>(&config);
  if (impl == nullptr) {
    return InvalidArgument(
        "CalibrationOptionsFromConfig: the config was not created by CreateIBuilderConfig");
  }
  const builder::BuildOptions& o = impl->options();
  options->algorithm = o.calibration_algorithm;
  options->percentile = o.calibration_percentile;
  options->histogram_bins = o.histogram_bins;
  options->max_samples = o.max_samples;
  return Status::Ok();
}

}  // namespace qsdk
