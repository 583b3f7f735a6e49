#include <new>

#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "qsdk/reference.h"
#include "reference/reference.h"

namespace qsdk {

Status ExecuteReference(const INetwork& network, const std::vector<Tensor>& inputs,
                        std::vector<Tensor>* outputs) {
  if (outputs == nullptr) return InvalidArgument("ExecuteReference: outputs is null");
  const auto* net = dynamic_cast<const graph::NetworkImpl*>(&network);
  if (net == nullptr) {
    return InvalidArgument("ExecuteReference: the network was not created by CreateINetwork");
  }
  try {
    QSDK_RETURN_IF_ERROR(net->graph().Validate());
    return reference::RunGraph(net->graph(), inputs, outputs);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "ExecuteReference: out of memory");
  } catch (const std::exception& e) {
    return InternalError("ExecuteReference: ", e.what());
  }
}

}  // namespace qsdk
