/// @file qsdk.h
/// @brief Umbrella header: includes the whole public API of qsdk.
#pragma once

#include "qsdk/build_report.h"
#include "qsdk/builder.h"
#include "qsdk/builder_config.h"
#include "qsdk/calibration.h"
#include "qsdk/data_type.h"
#include "qsdk/dims.h"
#include "qsdk/execution_plan.h"
#include "qsdk/export.h"
#include "qsdk/model.h"
#include "qsdk/network.h"
#include "qsdk/node_type.h"
#include "qsdk/onnx_parser.h"
#include "qsdk/reference.h"
#include "qsdk/status.h"
#include "qsdk/tensor.h"
#include "qsdk/version.h"
