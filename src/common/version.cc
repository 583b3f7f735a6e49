#include "qsdk/version.h"

#define QSDK_STR2(x) #x
#define QSDK_STR(x) QSDK_STR2(x)

namespace qsdk {
const char* GetVersionString() {
  return QSDK_STR(QSDK_VERSION_MAJOR) "." QSDK_STR(QSDK_VERSION_MINOR) "." QSDK_STR(
      QSDK_VERSION_PATCH);
}
}  // namespace qsdk
