// simplenet-parser from C: the scalar wasm build translated to C by wasm2c,
// driven through the ABI that README.md's "The wasm ABI" section documents
// (its constants generated into simplenet_abi.h) and nothing else.
//
//   ./parse request [FILE]        parse the request in FILE (or stdin)
//   ./parse response METHOD [FILE]
//                                 parse the response (to a METHOD request) in
//                                 FILE (or stdin), its interim 1xx ones first
//   ./parse head STATUS REASON LENGTH NOW [NAME VALUE]...
//                                 serialize a response head: Content-Length
//                                 LENGTH, Date from NOW (Unix seconds), close
//
// Parsed parts print one per line ("method GET", "header Host: a", ...),
// bytes outside printable ASCII and "\" as \xNN; an error prints its code,
// name, status, reason and offset in the message. The input is the whole
// stream, as if the connection closed after it. Build with make (Makefile).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simplenet.h"     // made by wasm2c --module-name simplenet
#include "simplenet_abi.h" // the ABI's constants

// wasm2c names things one way up to wabt 1.0.32 (Debian 12's, which the test
// builds with) and another from 1.0.33 on (w2c_simplenet_parseRequest, ...);
// the Makefile defines SIMPLENET_W2C_NEW when the generated header has those.
#ifdef SIMPLENET_W2C_NEW
static w2c_simplenet module;
#define X(name) w2c_simplenet_##name
static void instantiate(void) { wasm2c_simplenet_instantiate(&module); }
static void release(void) { wasm2c_simplenet_free(&module); }
#else
static Z_simplenet_instance_t module;
#define X(name) Z_simplenetZ_##name
static void instantiate(void) {
  Z_simplenet_init_module();
  Z_simplenet_instantiate(&module);
}
static void release(void) { Z_simplenet_free(&module); }
#endif

static uint8_t *memory; // the module's linear memory (little-endian)
static uint32_t result; // the result table's address in it

static int32_t i32_at(uint32_t address) {
  int32_t v;
  memcpy(&v, memory + address, sizeof v);
  return v;
}
static void set_i32(uint32_t address, int32_t v) { memcpy(memory + address, &v, sizeof v); }
static int32_t slot(int k) { return i32_at(result + 4 * k); }
static double f64_slot(int k) {
  double v;
  memcpy(&v, memory + result + 8 * k, sizeof v);
  return v;
}

static void put_bytes(const uint8_t *p, int32_t n) {
  for (int32_t k = 0; k < n; k++) {
    if (p[k] >= 0x20 && p[k] < 0x7f && p[k] != '\\') putchar(p[k]);
    else printf("\\x%02x", p[k]);
  }
}

/** "what Name: value" for each field span of a copy of the result table; offsets count from base. */
static void put_fields(const char *what, const int32_t *table, uint32_t base) {
  for (int h = 0; h < table[SIMPLENET_R_HEADER_COUNT]; h++) {
    const int32_t *span = table + SIMPLENET_R_FIELDS + h * SIMPLENET_SPAN_SLOTS;
    printf("%s ", what);
    put_bytes(memory + base + span[SIMPLENET_SPAN_NAME_OFF], span[SIMPLENET_SPAN_NAME_LEN]);
    printf(": ");
    put_bytes(memory + base + span[SIMPLENET_SPAN_VALUE_OFF], span[SIMPLENET_SPAN_VALUE_LEN]);
    putchar('\n');
  }
}

/** The error table's line for a code the module returned, and the fault's offset in the message. */
static int put_error(int32_t code, int32_t offset, int response) {
  for (int k = 0; k < SIMPLENET_ERROR_COUNT; k++) {
    const struct simplenet_error *e = &SIMPLENET_ERRORS[k];
    if (e->code == code) {
      // A client answers any fault in a response with 502, whatever the table's status (README).
      printf("error %d %s %d %s at %d\n", e->code, e->name, response ? 502 : e->status, e->reason, offset);
      return 1;
    }
  }
  printf("error %d UNKNOWN at %d\n", code, offset);
  return 1;
}

/** Reads FILE (or stdin) into the receive region; returns its length, or -1 when it does not fit. */
static int32_t read_input(const char *path, uint32_t recv) {
  FILE *f = path ? fopen(path, "rb") : stdin;
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t n = fread(memory + recv, 1, SIMPLENET_RECV_CAPACITY, f);
  int more = fgetc(f) != EOF;
  if (path) fclose(f);
  return more ? -1 : (int32_t)n;
}

/**
 * The body after a head, as its framing says: LENGTH (the result table's
 * Content-Length), CHUNKED (decoded in place; its trailers' table copied to
 * trailer_table), UNTIL_CLOSE (the rest of the input: the connection closed
 * after it); none for NONE and TUNNEL. `body` is its address, `rest` the
 * input after the head, `head` the head's length (error offsets count from
 * the message's start). Adds what it took to *consumed; returns 0, or 1
 * after printing "incomplete" or the error.
 */
static int read_body(int framing, uint32_t body, int32_t rest, int32_t head, int response,
                     int32_t *body_len, int32_t *consumed, int32_t *trailer_table) {
  *body_len = 0;
  if (framing == SIMPLENET_FRAMING_LENGTH) {
    double length = f64_slot(SIMPLENET_R_CONTENT_LENGTH_F64);
    if (length > rest) return puts("incomplete"), 1;
    *body_len = (int32_t)length;
    *consumed += *body_len;
  } else if (framing == SIMPLENET_FRAMING_CHUNKED) {
    // The whole body is here, so one call decodes it; a reader of a socket
    // would keep the unconsumed bytes and call again with more.
    X(resetChunked)(&module);
    int32_t r = (int32_t)X(decodeChunked)(&module, body, rest);
    if (r < 0) return put_error(r, head + slot(SIMPLENET_R_ERROR_OFFSET), response);
    if (r == 0) return puts("incomplete"), 1;
    *body_len = slot(SIMPLENET_R_DATA_LEN);
    *consumed += slot(SIMPLENET_R_CONSUMED);
    memcpy(trailer_table, memory + result, SIMPLENET_R_SIZE * sizeof *trailer_table);
  } else if (framing == SIMPLENET_FRAMING_UNTIL_CLOSE) {
    *body_len = rest;
    *consumed += rest;
  }
  return 0;
}

/** One request: its head, then its body as the framing says, then its trailers. */
static int parse_request(const char *path) {
  uint32_t recv = X(recvBuffer)(&module);
  int32_t len = read_input(path, recv);
  if (len < 0) return fprintf(stderr, "input larger than the receive region\n"), 2;

  int32_t head = (int32_t)X(parseRequest)(&module, recv, len, 0);
  if (head == SIMPLENET_INCOMPLETE) return puts("incomplete"), 1;
  if (head < 0) return put_error(head, slot(SIMPLENET_R_ERROR_OFFSET), 0);

  // decodeChunked writes the result table too: keep the head's part of it.
  static int32_t head_table[SIMPLENET_R_SIZE];
  memcpy(head_table, memory + result, sizeof head_table);
  uint32_t body = recv + (uint32_t)head;
  int32_t body_len, consumed = head;
  int framing = slot(SIMPLENET_R_FRAMING);
  static int32_t trailer_table[SIMPLENET_R_SIZE];
  if (read_body(framing, body, len - head, head, 0, &body_len, &consumed, trailer_table)) return 1;

  printf("method ");
  put_bytes(memory + recv + head_table[SIMPLENET_R_METHOD_OFF], head_table[SIMPLENET_R_METHOD_LEN]);
  printf("\ntarget ");
  put_bytes(memory + recv + head_table[SIMPLENET_R_TARGET_OFF], head_table[SIMPLENET_R_TARGET_LEN]);
  printf("\nversion 1.%d\n", head_table[SIMPLENET_R_VERSION]);
  put_fields("header", head_table, recv);
  printf("body %d ", body_len);
  put_bytes(memory + body, body_len);
  putchar('\n');
  if (framing == SIMPLENET_FRAMING_CHUNKED) put_fields("trailer", trailer_table, body);
  printf("consumed %d\nkeep-alive %d\n", consumed, (head_table[SIMPLENET_R_FLAGS] & SIMPLENET_FLAG_KEEP_ALIVE) != 0);
  return 0;
}

/** The METHOD id of a method name (methods are case-sensitive); OTHER for a method with none. */
static uint32_t method_id(const char *name) {
  for (int k = 0; k < SIMPLENET_METHOD_COUNT; k++) {
    if (k != SIMPLENET_METHOD_OTHER && strcmp(SIMPLENET_METHOD_NAMES[k], name) == 0) return (uint32_t)k;
  }
  return SIMPLENET_METHOD_OTHER;
}

/** Whether a status is a 1xx other than 101: an interim response, the final one follows. */
static int interim(int32_t status) { return status < 200 && status != 101; }

/**
 * One response to a request of the given METHOD id: its interim (1xx) heads,
 * its head, then its body as the framing says (the rest of the input for
 * UNTIL_CLOSE, none for NONE and TUNNEL), then its trailers.
 */
static int parse_response(uint32_t method, const char *path) {
  uint32_t recv = X(recvBuffer)(&module);
  int32_t len = read_input(path, recv);
  if (len < 0) return fprintf(stderr, "input larger than the receive region\n"), 2;

  // The heads: interim ones until the final one. Offsets count from each message's start.
  int32_t start = 0, head;
  for (;;) {
    head = (int32_t)X(parseResponse)(&module, recv + (uint32_t)start, len - start, 0, method);
    if (head == SIMPLENET_INCOMPLETE) return puts("incomplete"), 1;
    if (head < 0) return put_error(head, slot(SIMPLENET_R_ERROR_OFFSET), 1);
    if (!interim(slot(SIMPLENET_R_STATUS))) break;
    start += head;
  }
  static int32_t head_table[SIMPLENET_R_SIZE];
  memcpy(head_table, memory + result, sizeof head_table);
  uint32_t message = recv + (uint32_t)start, body = message + (uint32_t)head;
  int32_t body_len, consumed = start + head;
  static int32_t trailer_table[SIMPLENET_R_SIZE];
  int framing = head_table[SIMPLENET_R_FRAMING];
  if (read_body(framing, body, len - start - head, head, 1, &body_len, &consumed, trailer_table)) return 1;

  // Parsing the interim heads again to print them: parseResponse keeps no state, and
  // nothing above moved their bytes (decodeChunked works after the final head).
  for (int32_t at = 0; at < start;) {
    int32_t n = (int32_t)X(parseResponse)(&module, recv + (uint32_t)at, len - at, 0, method);
    printf("interim %d ", slot(SIMPLENET_R_STATUS));
    put_bytes(memory + recv + at + slot(SIMPLENET_R_REASON_OFF), slot(SIMPLENET_R_REASON_LEN));
    putchar('\n');
    static int32_t interim_table[SIMPLENET_R_SIZE];
    memcpy(interim_table, memory + result, sizeof interim_table);
    put_fields("interim-header", interim_table, recv + (uint32_t)at);
    at += n;
  }
  printf("status %d\nreason ", head_table[SIMPLENET_R_STATUS]);
  put_bytes(memory + message + head_table[SIMPLENET_R_REASON_OFF], head_table[SIMPLENET_R_REASON_LEN]);
  printf("\nversion 1.%d\n", head_table[SIMPLENET_R_VERSION]);
  put_fields("header", head_table, message);
  printf("framing %s\nbody %d ", SIMPLENET_FRAMING_NAMES[framing], body_len);
  put_bytes(memory + body, body_len);
  putchar('\n');
  if (framing == SIMPLENET_FRAMING_CHUNKED) put_fields("trailer", trailer_table, body);
  printf("consumed %d\nkeep-alive %d\nupgrade %d\n", consumed, (head_table[SIMPLENET_R_FLAGS] & SIMPLENET_FLAG_KEEP_ALIVE) != 0,
         (head_table[SIMPLENET_R_FLAGS] & SIMPLENET_FLAG_UPGRADE) != 0);
  return 0;
}

/** Copies n bytes into the staging region at offset at; returns the offset after them. */
static int32_t stage(uint32_t staging, int32_t at, const char *s, int32_t n) {
  if (at + n > SIMPLENET_STAGE_CAPACITY) {
    fprintf(stderr, "too large for the staging region\n");
    exit(2);
  }
  memcpy(memory + staging + at, s, (size_t)n);
  return at + n;
}

/** A response head through the staging region and table, written to stdout as the module made it. */
static int serialize_head(int argc, char **argv) {
  if (argc < 4 || argc % 2 != 0 || (argc - 4) / 2 > SIMPLENET_MAX_FIELDS) {
    fprintf(stderr, "usage: parse head STATUS REASON LENGTH NOW [NAME VALUE]...\n");
    return 2;
  }
  uint32_t staging = X(stageBuffer)(&module), table = X(stageTable)(&module);
  int32_t reason_len = (int32_t)strlen(argv[1]);
  int32_t at = stage(staging, 0, argv[1], reason_len); // the reason phrase first, at offset 0
  int32_t count = (argc - 4) / 2;
  for (int32_t h = 0; h < count; h++) {
    const char *name = argv[4 + 2 * h], *value = argv[5 + 2 * h];
    uint32_t span = table + 4 * (uint32_t)(h * SIMPLENET_SPAN_SLOTS);
    set_i32(span + 4 * SIMPLENET_SPAN_NAME_OFF, at);
    set_i32(span + 4 * SIMPLENET_SPAN_NAME_LEN, (int32_t)strlen(name));
    at = stage(staging, at, name, (int32_t)strlen(name));
    set_i32(span + 4 * SIMPLENET_SPAN_VALUE_OFF, at);
    set_i32(span + 4 * SIMPLENET_SPAN_VALUE_LEN, (int32_t)strlen(value));
    at = stage(staging, at, value, (int32_t)strlen(value));
  }
  int32_t n = (int32_t)X(serializeHead)(&module, (uint32_t)atoi(argv[0]), (uint32_t)reason_len, (uint32_t)count,
                                        SIMPLENET_FRAMING_LENGTH, strtod(argv[2], NULL),
                                        SIMPLENET_HEAD_DATE | SIMPLENET_HEAD_CLOSE, strtod(argv[3], NULL), 0);
  if (n < 0) return put_error(n, slot(SIMPLENET_R_ERROR_OFFSET), 0);
  fwrite(memory + X(outBuffer)(&module), 1, (size_t)n, stdout);
  return 0;
}

int main(int argc, char **argv) {
  wasm_rt_init();
  instantiate();
  memory = X(memory)(&module)->data;
  result = X(resultTable)(&module);

  int status = 2;
  if (argc >= 2 && strcmp(argv[1], "request") == 0 && argc <= 3) status = parse_request(argc == 3 ? argv[2] : NULL);
  else if (argc >= 3 && strcmp(argv[1], "response") == 0 && argc <= 4) status = parse_response(method_id(argv[2]), argc == 4 ? argv[3] : NULL);
  else if (argc >= 2 && strcmp(argv[1], "head") == 0) status = serialize_head(argc - 2, argv + 2);
  else fprintf(stderr, "usage: parse request [FILE] | parse response METHOD [FILE] | parse head STATUS REASON LENGTH NOW [NAME VALUE]...\n");

  release();
  wasm_rt_free();
  return status;
}
