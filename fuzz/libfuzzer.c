// libFuzzer harness for the scalar wasm build translated to C by wasm2c.
// Each input is parsed as a request stream the way parser/src/parser.ts drives the
// module: heads with parseRequest, then Content-Length bodies skipped and
// chunked bodies run through decodeChunked, message after message. A trap
// (out-of-bounds access, unreachable) aborts, and the harness checks that
// consumed counts and spans stay inside the input; ASan watches the C side.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parser.h"
#include "simplenet_abi.h" /* generated from parser/src/abi.ts, as examples/c uses it */

static Z_parser_instance_t instance;
static uint8_t *memory;
static uint32_t recv_at, table_at, chunk_state_at;

static int32_t slot(int k) {
  int32_t v;
  memcpy(&v, memory + table_at + 4 * k, 4);
  return v;
}

static void inside(int32_t off, int32_t len, int32_t n) {
  if (off < 0 || len < 0 || (int64_t)off + len > n) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  wasm_rt_init();
  Z_parser_init_module();
  Z_parser_instantiate(&instance);
  memory = Z_parserZ_memory(&instance)->data;
  recv_at = Z_parserZ_recvBuffer(&instance);
  table_at = Z_parserZ_resultTable(&instance);
  chunk_state_at = Z_parserZ_chunkState(&instance);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > SIMPLENET_RECV_CAPACITY / 2) return 0;
  memcpy(memory + recv_at, data, size);
  int32_t off = 0, len = (int32_t)size;
  while (off < len) {
    int32_t r = (int32_t)Z_parserZ_parseRequest(&instance, recv_at + off, len - off, 0);
    if (r < 0) return 0; // incomplete or rejected
    if (r > len - off) abort();
    inside(slot(SIMPLENET_R_METHOD_OFF), slot(SIMPLENET_R_METHOD_LEN), r);
    inside(slot(SIMPLENET_R_TARGET_OFF), slot(SIMPLENET_R_TARGET_LEN), r);
    for (int h = 0; h < slot(SIMPLENET_R_HEADER_COUNT); h++) {
      inside(slot(SIMPLENET_R_FIELDS + SIMPLENET_SPAN_SLOTS * h + SIMPLENET_SPAN_NAME_OFF), slot(SIMPLENET_R_FIELDS + SIMPLENET_SPAN_SLOTS * h + SIMPLENET_SPAN_NAME_LEN), r);
      inside(slot(SIMPLENET_R_FIELDS + SIMPLENET_SPAN_SLOTS * h + SIMPLENET_SPAN_VALUE_OFF), slot(SIMPLENET_R_FIELDS + SIMPLENET_SPAN_SLOTS * h + SIMPLENET_SPAN_VALUE_LEN), r);
    }
    double content_length;
    memcpy(&content_length, memory + table_at + 8 * SIMPLENET_R_CONTENT_LENGTH_F64, 8);
    int framing = slot(SIMPLENET_R_FRAMING);
    off += r;
    if (framing == SIMPLENET_FRAMING_CHUNKED) {
      memset(memory + chunk_state_at, 0, SIMPLENET_C_SIZE);
      int32_t done = (int32_t)Z_parserZ_decodeChunked(&instance, recv_at + off, len - off);
      int32_t consumed = slot(SIMPLENET_R_CONSUMED), decoded = slot(SIMPLENET_R_DATA_LEN);
      if (consumed < 0 || consumed > len - off || decoded < 0 || decoded > consumed) abort();
      if (done != 1) return 0;
      off += consumed;
    } else if (content_length > 0) {
      if (content_length > len - off) return 0;
      off += (int32_t)content_length;
    }
  }
  return 0;
}
