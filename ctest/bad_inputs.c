/*
 * A corpus of bad inputs through the C ABI, one table row each: the export,
 * its arguments, and the status it must return. Every row also checks that
 * the call left nothing behind:
 *
 *   - outputs untouched (a region or registry out-pointer keeps its sentinel,
 *     an output buffer keeps its fill, out_written keeps its sentinel except
 *     on TRITON_SHM_BUFFER_TOO_SMALL, where it must be the size needed);
 *   - no registry of this program tracks more names, registered more, or
 *     maps more bytes than before;
 *   - no shared-memory object exists under the name as given or its
 *     normalised form (asked through shm_open(O_RDONLY)), and an object the
 *     row set up beforehand keeps its size and contents;
 *   - no file descriptor was left open;
 *   - the failure left a message, and a refusal in the 1xx range (decided
 *     before any system call) left errno 0;
 *   - a NULL_ARGUMENT row's message names the argument as the header does
 *     ("'reg' is NULL"); a failed triton_shm_last_error_message keeps the
 *     message it could not deliver.
 *
 * Names are unique per process: '%' in a row's name becomes "b<pid>_<row>".
 * A few boundary rows that must succeed (a name exactly at a policy's limit)
 * prove that the "one byte over" rows are exactly one byte over.
 *
 * Prints "bad inputs: N cases, F failed" and exits non-zero if F > 0.
 */
/* mkdtemp is POSIX 2008, but macOS's headers hide it when _POSIX_C_SOURCE is
   set (check.h) unless _DARWIN_C_SOURCE is set too; other systems ignore it. */
#define _DARWIN_C_SOURCE
#include "check.h"

#include <stdint.h>
#include <sys/types.h>

#if defined(__APPLE__)
#define PLATFORM_IS_DARWIN 1
#else
#define PLATFORM_IS_DARWIN 0
#endif

/* Bytes after the leading slashes that make a name one byte too long: darwin
 * counts the leading slash of the normalised name (31 + 1 = 32 > 31), posix
 * counts what follows the slashes (256 > 255). */
#define DARWIN_OVER (TRITON_SHM_DARWIN_NAME_MAX)
#define POSIX_OVER (TRITON_SHM_POSIX_NAME_MAX + 1)
#define PLATFORM_OVER (PLATFORM_IS_DARWIN ? DARWIN_OVER : POSIX_OVER)

/* The size of objects rows set up: a multiple of every page size (4, 16 and
 * 64 KiB), so that macOS reports it exactly. */
#define OBJ ((size_t)65536)
#define PATTERN 0xC3
#define FILL 0x5A
#define UNTOUCHED_SIZE ((size_t)4242)

enum export_fn {
  F_STATUS_NAME,
  F_LAST_ERROR_MESSAGE,
  F_NORMALIZE_NAME,
  F_SYSTEM_NAME,
  F_REGISTRY_SYSTEM_NAME,
  F_OPTIONS_INIT,
  F_REGION_OPEN,
  F_REGION_CREATE,
  F_REGION_DATA,
  F_REGION_SIZE,
  F_REGION_SYSTEM_NAME,
  F_REGION_KEY,
  F_REGION_CLOSE,
  F_REGISTER_REGION,
  F_UNLINK_REGION,
  F_REGISTRY_NEW,
  F_REGISTRY_FREE,
  F_REGISTRY_REGISTER,
  F_REGISTRY_UNLINK,
  F_REGISTRY_CLEANUP_ALL,
  F_REGISTRY_COUNT,
  F_REGISTRY_CONTAINS,
  F_REGISTRY_STATS,
  F_STATS_FORMAT,
  F_REAP_STALE,
  F_OPTIONS_FROM_ENV,
  F_REGION_UNMAP,
  F_REGISTRY_STATS_SIZED,
  F_STATS_FORMAT_SIZED,
  F_REGISTRY_CLEANUP_ALL_SIZED,
  F_CLEANUP_ALL_SIZED,
  F_REAP_STALE_SIZED,
};

static const char *const fn_names[] = {
    "triton_shm_status_name",        "triton_shm_last_error_message",
    "triton_shm_normalize_name",     "triton_shm_system_name",
    "triton_shm_registry_system_name", "triton_shm_options_init",
    "triton_shm_region_open",        "triton_shm_region_create",
    "triton_shm_region_data",        "triton_shm_region_size",
    "triton_shm_region_system_name", "triton_shm_region_key",
    "triton_shm_region_close",       "triton_shm_register_region",
    "triton_shm_unlink_region",      "triton_shm_registry_new",
    "triton_shm_registry_free",      "triton_shm_registry_register",
    "triton_shm_registry_unlink",    "triton_shm_registry_cleanup_all",
    "triton_shm_registry_count",     "triton_shm_registry_contains",
    "triton_shm_registry_stats",     "triton_shm_stats_format",
    "triton_shm_reap_stale",         "triton_shm_options_from_env",
    "triton_shm_region_unmap",       "triton_shm_registry_stats_sized",
    "triton_shm_stats_format_sized", "triton_shm_registry_cleanup_all_sized",
    "triton_shm_cleanup_all_sized",  "triton_shm_reap_stale_sized",
};

/* The object argument (registry, region or stats). R_VALID is the one the
 * export needs: the posix registry, the fixture region, a stats struct. */
enum object_kind { R_VALID = 0, R_NULL, R_DEFAULT, R_POSIX, R_DARWIN, R_HOST };
enum buf_kind { B_OK = 0, B_NULL, B_ZERO, B_ONE_SHORT };
enum out_kind { O_OK = 0, O_NULL };
enum setup_kind {
  S_NONE = 0,
  S_OBJECT,        /* an object of OBJ bytes under `other` (or the name) */
  S_TRACK_OTHER,   /* `other` tracked as owned in the row's registry */
  S_UNLINKED_ONCE, /* the name registered and unlinked once already */
  S_REGION,        /* a region created under the name, open during the call */
  S_ERROR_SET,     /* a failed call left a message to read */
};
enum opt_kind {
  OPT_NONE = 0,
  OPT_NULL,           /* opts itself is NULL (the defaults) */
  OPT_STRUCT_SIZE,    /* struct_size = value */
  OPT_NAMING,         /* naming_policy = value */
  OPT_UNLINK,         /* unlink_policy = value */
  OPT_BACKEND,        /* backend = value */
  OPT_JOURNAL,        /* journal = value */
  OPT_REAP,           /* reap_on_create = value */
  OPT_PREFIXES_NULL,  /* reserved_prefixes NULL, count = value */
  OPT_PREFIX_ENTRY_NULL, /* one of the reserved_prefixes is NULL */
  OPT_STATE_DIR_LINK, /* state_dir is a symlink to a private directory */
  OPT_STATE_DIR_OPEN, /* state_dir is writable by everyone */
};

typedef struct bad_case {
  enum export_fn fn;
  const char *what;
  enum object_kind obj;
  const char *name;  /* NULL stays NULL; '%' becomes the unique token */
  size_t pad;        /* if set: pad with 'x' to this many bytes after the slashes */
  enum buf_kind buf;
  size_t offset;     /* region_open's offset; options_init's size; a status value;
                        a _sized export's struct size (0: the sizeof) */
  size_t size;       /* byte_size */
  uint32_t flags;
  enum out_kind out;
  enum setup_kind setup;
  const char *other; /* the setup's name, same template rules */
  enum opt_kind opt;
  uint64_t value;    /* for opt */
  const char *env;   /* an environment variable set during the call */
  const char *env_value;
  triton_shm_status expected;
  int boundary;      /* a control that must succeed, not a bad input */
  /* A known deviation from `expected`: the status the library returns
   * today, and why. The row passes with `current` and is listed; it fails
   * once the library returns `expected`, so that the mark gets removed. */
  const char *known;
  triton_shm_status current;
  /* For a NULL_ARGUMENT row: the argument, as the header names it, that the
   * message must name ("'<null_arg>' is NULL"). */
  const char *null_arg;
} bad_case;

#define NAME_MAX_BUF 600

static const bad_case cases[] = {
    /* ---- status names -------------------------------------------------- */
    {.fn = F_STATUS_NAME, .what = "status 1 is unknown", .offset = 1},
    {.fn = F_STATUS_NAME, .what = "status 99 is unknown", .offset = 99},
    {.fn = F_STATUS_NAME, .what = "status 107 is unknown", .offset = 107},
    {.fn = F_STATUS_NAME, .what = "status 203 is unknown", .offset = 203},
    {.fn = F_STATUS_NAME, .what = "status 302 is unknown", .offset = 302},
    {.fn = F_STATUS_NAME, .what = "status 899 is unknown", .offset = 899},
    {.fn = F_STATUS_NAME, .what = "status 901 is unknown", .offset = 901},
    {.fn = F_STATUS_NAME, .what = "status UINT32_MAX is unknown", .offset = UINT32_MAX},

    /* ---- last error message ------------------------------------------ */
    {.fn = F_LAST_ERROR_MESSAGE, .what = "buf NULL", .buf = B_NULL, .setup = S_ERROR_SET,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_LAST_ERROR_MESSAGE, .what = "len 0", .buf = B_ZERO, .setup = S_ERROR_SET,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_LAST_ERROR_MESSAGE, .what = "one byte too small", .buf = B_ONE_SHORT,
     .setup = S_ERROR_SET, .expected = TRITON_SHM_BUFFER_TOO_SMALL},

    /* ---- normalize_name -------------------------------------------------- */
    {.fn = F_NORMALIZE_NAME, .what = "name NULL", .null_arg = "name", .name = NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_NORMALIZE_NAME, .what = "out NULL", .null_arg = "out", .name = "/%", .buf = B_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_NORMALIZE_NAME, .what = "\"\"", .name = "", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_NORMALIZE_NAME, .what = "\"/\"", .name = "/", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_NORMALIZE_NAME, .what = "\"///\"", .name = "///", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_NORMALIZE_NAME, .what = "out_len 0", .name = "/%", .buf = B_ZERO,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_NORMALIZE_NAME, .what = "out one byte too small", .name = "//%/a", .buf = B_ONE_SHORT,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},

    /* ---- system_name (the default registry's policy) -------------------- */
    {.fn = F_SYSTEM_NAME, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_SYSTEM_NAME, .what = "out NULL", .null_arg = "out", .name = "/%", .buf = B_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_SYSTEM_NAME, .what = "\"\"", .name = "", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_SYSTEM_NAME, .what = "\"/\"", .name = "/", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_SYSTEM_NAME, .what = "\"///\"", .name = "///", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_SYSTEM_NAME, .what = "one byte over the platform limit", .name = "/%",
     .pad = PLATFORM_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_SYSTEM_NAME, .what = "out_len 0", .name = "/%", .buf = B_ZERO,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_SYSTEM_NAME, .what = "out one byte too small", .name = "/%", .buf = B_ONE_SHORT,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},

    /* ---- registry_system_name ------------------------------------------- */
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%",
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "out NULL", .null_arg = "out", .name = "/%", .buf = B_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix \"\"", .obj = R_POSIX, .name = "",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix \"/\"", .obj = R_POSIX, .name = "/",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix \"///\"", .obj = R_POSIX, .name = "///",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix inner slash", .obj = R_POSIX, .name = "/%/a",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix inner slash after two", .obj = R_POSIX,
     .name = "//%/a", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix trailing slash", .obj = R_POSIX, .name = "/%/",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix 256 bytes after \"/\"", .obj = R_POSIX,
     .name = "/%", .pad = POSIX_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix 256 bytes after \"///\"", .obj = R_POSIX,
     .name = "///%", .pad = POSIX_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix 256 bytes, no slash", .obj = R_POSIX,
     .name = "%", .pad = POSIX_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "posix 255 bytes after \"//\"", .obj = R_POSIX,
     .name = "//%", .pad = POSIX_OVER - 1, .boundary = 1},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin \"\"", .obj = R_DARWIN, .name = "",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin \"///\"", .obj = R_DARWIN, .name = "///",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 32 bytes from \"/\"", .obj = R_DARWIN,
     .name = "/%", .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 32 bytes from \"///\"", .obj = R_DARWIN,
     .name = "///%", .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 32 bytes from no slash", .obj = R_DARWIN,
     .name = "%", .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 32 bytes with inner slashes", .obj = R_DARWIN,
     .name = "/%/a/", .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 31 bytes from \"///\"", .obj = R_DARWIN,
     .name = "///%", .pad = DARWIN_OVER - 1, .boundary = 1},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "darwin 31 bytes with inner slashes", .obj = R_DARWIN,
     .name = "/%/a/", .pad = DARWIN_OVER - 1, .boundary = 1},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "out_len 0", .obj = R_DARWIN, .name = "/%/a",
     .buf = B_ZERO, .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_REGISTRY_SYSTEM_NAME, .what = "out one byte too small", .obj = R_DARWIN,
     .name = "//%/a", .buf = B_ONE_SHORT, .expected = TRITON_SHM_BUFFER_TOO_SMALL},

    /* ---- options_init ---------------------------------------------------- */
    {.fn = F_OPTIONS_INIT, .what = "opts NULL", .null_arg = "opts", .out = O_NULL, .offset = sizeof(triton_shm_options),
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_OPTIONS_INIT, .what = "opts_size 0", .offset = 0,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_INIT, .what = "opts_size 1", .offset = 1,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_INIT, .what = "opts_size one byte short", .offset = sizeof(triton_shm_options) - 1,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    /* ---- options_from_env: the environment only where the host asks ---- */
    {.fn = F_OPTIONS_FROM_ENV, .what = "opts NULL", .null_arg = "opts", .out = O_NULL,
     .offset = sizeof(triton_shm_options), .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "opts_size 1", .offset = 1,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "TRITON_SHM_NAMING unknown",
     .offset = sizeof(triton_shm_options), .env = "TRITON_SHM_NAMING", .env_value = "windows",
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "TRITON_SHM_UNLINK_POLICY unknown",
     .offset = sizeof(triton_shm_options), .env = "TRITON_SHM_UNLINK_POLICY", .env_value = "some",
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "TRITON_SHM_UNLINK_POLICY all (never from the environment)",
     .offset = sizeof(triton_shm_options), .env = "TRITON_SHM_UNLINK_POLICY", .env_value = "all",
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "TRITON_SHM_JOURNAL unknown",
     .offset = sizeof(triton_shm_options), .env = "TRITON_SHM_JOURNAL", .env_value = "maybe",
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_OPTIONS_FROM_ENV, .what = "TRITON_SHM_REAP_ON_CREATE unknown",
     .offset = sizeof(triton_shm_options), .env = "TRITON_SHM_REAP_ON_CREATE", .env_value = "2",
     .expected = TRITON_SHM_INVALID_ARGUMENT},

    /* ---- region_open ------------------------------------------------------ */
    {.fn = F_REGION_OPEN, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%", .size = 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "key NULL", .null_arg = "key", .size = 1, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "out NULL", .null_arg = "out", .name = "/%", .size = 1, .out = O_NULL,
     .setup = S_OBJECT, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "byte_size 0", .name = "/%", .size = 0, .setup = S_OBJECT,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "byte_size 0, no object (looked for first)", .name = "/%",
     .size = 0, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGION_OPEN, .what = "sum overflows, no object (looked for first)", .name = "/%",
     .offset = SIZE_MAX, .size = 2, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGION_OPEN, .what = "flags 1", .name = "/%", .size = 1, .flags = 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "flags 0x80000000", .name = "/%", .size = 1,
     .flags = 0x80000000u, .setup = S_OBJECT, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_OPEN, .what = "posix \"\"", .name = "", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_OPEN, .what = "darwin \"/\"", .obj = R_DARWIN, .name = "/", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_OPEN, .what = "posix \"///\"", .name = "///", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_OPEN, .what = "posix inner slash", .name = "/%/a", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_OPEN, .what = "posix one byte over", .name = "/%", .pad = POSIX_OVER,
     .size = 1, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGION_OPEN, .what = "darwin one byte over", .obj = R_DARWIN, .name = "//%",
     .pad = DARWIN_OVER, .size = 1, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGION_OPEN, .what = "reserved python, no slash",
     .name = "triton_python_backend_shm_region_%", .size = 1, .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "reserved python, \"/\"",
     .name = "/triton_python_backend_shm_region_%", .size = 1, .setup = S_OBJECT,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "reserved python, \"//\"",
     .name = "//triton_python_backend_shm_region_%", .size = 1,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "reserved python, \"///\"",
     .name = "///triton_python_backend_shm_region_%", .size = 1,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "reserved pytorch (darwin, over-long too)", .obj = R_DARWIN,
     .name = "//triton_pytorch_backend_shm_region_%", .size = 1,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "reserved vllm (darwin)", .obj = R_DARWIN,
     .name = "triton_vllm_backend_shm_region_%", .size = 1, .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "host-reserved prefix", .obj = R_HOST,
     .name = "//host_private_%", .size = 1, .setup = S_OBJECT,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_OPEN, .what = "no such object (posix)", .name = "/%", .size = 1,
     .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGION_OPEN, .what = "no such object (darwin)", .obj = R_DARWIN, .name = "/%",
     .size = 1, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGION_OPEN, .what = "posix \"//x\" while \"/x\" is tracked", .name = "//%",
     .size = 1, .setup = S_TRACK_OTHER, .other = "/%", .expected = TRITON_SHM_NAME_COLLISION},
    {.fn = F_REGION_OPEN, .what = "byte_size one past the object", .name = "/%", .size = OBJ + 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset at the end", .name = "/%", .offset = OBJ, .size = 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset+size one past the end", .name = "/%",
     .offset = OBJ - 1, .size = 2, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset far beyond", .name = "/%", .offset = 16 * OBJ,
     .size = 1, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset 1, byte_size SIZE_MAX (sum overflows)", .name = "/%",
     .offset = 1, .size = SIZE_MAX, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset SIZE_MAX, byte_size 1 (sum overflows)", .name = "/%",
     .offset = SIZE_MAX, .size = 1, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "offset SIZE_MAX, byte_size SIZE_MAX", .name = "/%",
     .offset = SIZE_MAX, .size = SIZE_MAX, .setup = S_OBJECT,
     .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "darwin byte_size one past the object", .obj = R_DARWIN,
     .name = "/%", .size = OBJ + 1, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_REGION_OPEN, .what = "darwin offset SIZE_MAX", .obj = R_DARWIN, .name = "/%",
     .offset = SIZE_MAX, .size = 2, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},

    /* ---- region_create ----------------------------------------------------- */
    {.fn = F_REGION_CREATE, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%", .size = 1,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "key NULL", .null_arg = "key", .size = 1, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "out NULL", .null_arg = "out", .name = "/%", .size = 1, .out = O_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "byte_size 0", .name = "/%", .size = 0,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "darwin byte_size 0", .obj = R_DARWIN, .name = "/%",
     .size = 0, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "byte_size SIZE_MAX", .name = "/%", .size = SIZE_MAX,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "byte_size INT64_MAX + 1 (past off_t)", .name = "/%",
     .size = (size_t)INT64_MAX + 1, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "flags 2", .name = "/%", .size = 1, .flags = 2,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "flags UINT32_MAX", .name = "/%", .size = 1,
     .flags = UINT32_MAX, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGION_CREATE, .what = "posix \"/\"", .name = "/", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_CREATE, .what = "darwin \"\"", .obj = R_DARWIN, .name = "", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_CREATE, .what = "posix inner slash", .name = "//%/a", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGION_CREATE, .what = "posix one byte over", .name = "//%", .pad = POSIX_OVER,
     .size = 1, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGION_CREATE, .what = "darwin one byte over", .obj = R_DARWIN, .name = "/%/a",
     .pad = DARWIN_OVER, .size = 1, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGION_CREATE, .what = "reserved python, \"/\"",
     .name = "/triton_python_backend_shm_region_%", .size = 1,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_CREATE, .what = "reserved python, \"///\" (darwin)", .obj = R_DARWIN,
     .name = "///triton_python_backend_shm_region_%", .size = 1,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_CREATE, .what = "reserved onnx, no slash",
     .name = "triton_onnx_backend_shm_region_%", .size = 1, .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_CREATE, .what = "host-reserved prefix", .obj = R_HOST,
     .name = "host_private_%", .size = 1, .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGION_CREATE, .what = "existing object", .name = "/%", .size = 1, .setup = S_OBJECT,
     .expected = TRITON_SHM_ALREADY_EXISTS},
    {.fn = F_REGION_CREATE, .what = "darwin existing object", .obj = R_DARWIN, .name = "/%",
     .size = OBJ, .setup = S_OBJECT, .expected = TRITON_SHM_ALREADY_EXISTS},
    {.fn = F_REGION_CREATE, .what = "a region this registry created and holds open",
     .name = "/%", .size = 8, .setup = S_REGION, .expected = TRITON_SHM_ALREADY_EXISTS},
    {.fn = F_REGION_CREATE, .what = "posix \"x\" while \"/x\" is tracked", .name = "%", .size = 1,
     .setup = S_TRACK_OTHER, .other = "/%", .expected = TRITON_SHM_NAME_COLLISION},
    {.fn = F_REGION_CREATE, .what = "darwin \"x\" while \"/x\" is tracked", .obj = R_DARWIN,
     .name = "%", .size = 1, .setup = S_TRACK_OTHER, .other = "/%",
     .expected = TRITON_SHM_NAME_COLLISION},

    /* ---- region accessors ---------------------------------------------------- */
    {.fn = F_REGION_DATA, .what = "region NULL gives NULL", .obj = R_NULL},
    {.fn = F_REGION_SIZE, .what = "region NULL gives 0", .obj = R_NULL},
    {.fn = F_REGION_SYSTEM_NAME, .what = "region NULL", .null_arg = "region", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_SYSTEM_NAME, .what = "out NULL", .null_arg = "out", .buf = B_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_SYSTEM_NAME, .what = "out_len 0", .buf = B_ZERO,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_REGION_SYSTEM_NAME, .what = "out one byte too small", .buf = B_ONE_SHORT,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_REGION_KEY, .what = "region NULL", .null_arg = "region", .obj = R_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_KEY, .what = "out NULL", .null_arg = "out", .buf = B_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_KEY, .what = "out_len 0", .buf = B_ZERO, .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_REGION_KEY, .what = "out one byte too small", .buf = B_ONE_SHORT,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_REGION_UNMAP, .what = "region NULL", .null_arg = "region", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGION_CLOSE, .what = "region NULL is a no-op", .obj = R_NULL},

    /* ---- the default registry's free functions -------------------------------- */
    {.fn = F_REGISTER_REGION, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTER_REGION, .what = "\"\"", .name = "", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTER_REGION, .what = "\"///\"", .name = "///", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTER_REGION, .what = "one byte over the platform limit", .name = "/%",
     .pad = PLATFORM_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTER_REGION, .what = "reserved python, \"//\"",
     .name = "//triton_python_backend_shm_region_%", .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_UNLINK_REGION, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_UNLINK_REGION, .what = "\"/\"", .name = "/", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_UNLINK_REGION, .what = "unknown name", .name = "/%", .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_UNLINK_REGION, .what = "unknown name with an object", .name = "/%",
     .setup = S_OBJECT, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_UNLINK_REGION, .what = "double unlink", .name = "/%", .setup = S_UNLINKED_ONCE,
     .expected = TRITON_SHM_NOT_FOUND},

    /* ---- registry_new ---------------------------------------------------------- */
    {.fn = F_REGISTRY_NEW, .what = "out NULL", .null_arg = "out", .out = O_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "opts NULL and out NULL", .opt = OPT_NULL, .out = O_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "struct_size 0", .opt = OPT_STRUCT_SIZE, .value = 0,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "struct_size one byte short", .opt = OPT_STRUCT_SIZE,
     .value = sizeof(triton_shm_options) - 1, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "struct_size one byte over", .opt = OPT_STRUCT_SIZE,
     .value = sizeof(triton_shm_options) + 1, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "struct_size SIZE_MAX", .opt = OPT_STRUCT_SIZE,
     .value = SIZE_MAX, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "naming_policy 3", .opt = OPT_NAMING, .value = 3,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "naming_policy UINT32_MAX", .opt = OPT_NAMING,
     .value = UINT32_MAX, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "unlink_policy 3", .opt = OPT_UNLINK, .value = 3,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "backend 3", .opt = OPT_BACKEND, .value = 3,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "journal 2", .opt = OPT_JOURNAL, .value = 2,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "reap_on_create UINT32_MAX", .opt = OPT_REAP,
     .value = UINT32_MAX, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "reserved_prefixes NULL, count 1", .opt = OPT_PREFIXES_NULL,
     .value = 1, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_NEW, .what = "a reserved prefix NULL", .opt = OPT_PREFIX_ENTRY_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
#ifdef TRITON_SHM_TEST_XNU_MODEL
    /* Only a library with the model reads the variable (a shipped one
     * ignores it: the drop-in's scenario the_backend_variable_... checks). */
    {.fn = F_REGISTRY_NEW, .what = "TRITON_SHM_BACKEND unknown (opts NULL)", .opt = OPT_NULL,
     .env = "TRITON_SHM_BACKEND", .env_value = "windows", .expected = TRITON_SHM_INVALID_ARGUMENT},
#endif
    {.fn = F_REGISTRY_FREE, .what = "NULL is a no-op", .obj = R_NULL},
    {.fn = F_REGISTRY_FREE, .what = "the default registry is a no-op", .obj = R_DEFAULT},

    /* ---- registry_register ----------------------------------------------------- */
    {.fn = F_REGISTRY_REGISTER, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%",
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_REGISTER, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_REGISTER, .what = "posix \"\"", .name = "", .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_REGISTER, .what = "darwin \"///\"", .obj = R_DARWIN, .name = "///",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_REGISTER, .what = "posix inner slash", .name = "/%/a",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_REGISTER, .what = "posix one byte over", .name = "///%", .pad = POSIX_OVER,
     .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_REGISTER, .what = "darwin one byte over", .obj = R_DARWIN, .name = "%",
     .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_REGISTER, .what = "reserved pytorch, \"///\"", .obj = R_DARWIN,
     .name = "///triton_pytorch_backend_shm_region_%", .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGISTRY_REGISTER, .what = "host-reserved prefix, \"/\"", .obj = R_HOST,
     .name = "/host_private_%", .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_REGISTRY_REGISTER, .what = "posix \"//x\" while \"/x\" is tracked", .name = "//%",
     .setup = S_TRACK_OTHER, .other = "/%", .expected = TRITON_SHM_NAME_COLLISION},
    {.fn = F_REGISTRY_REGISTER, .what = "darwin \"/x/b\" while \"/x_b\" is tracked",
     .obj = R_DARWIN, .name = "/%/b", .setup = S_TRACK_OTHER, .other = "/%_b",
     .expected = TRITON_SHM_NAME_COLLISION},

    /* ---- registry_unlink -------------------------------------------------------- */
    {.fn = F_REGISTRY_UNLINK, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%",
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_UNLINK, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_UNLINK, .what = "posix \"///\"", .name = "///",
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_REGISTRY_UNLINK, .what = "darwin one byte over", .obj = R_DARWIN, .name = "/%",
     .pad = DARWIN_OVER, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_REGISTRY_UNLINK, .what = "unknown name", .name = "/%", .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGISTRY_UNLINK, .what = "unknown name with an object", .obj = R_DARWIN, .name = "/%",
     .setup = S_OBJECT, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGISTRY_UNLINK, .what = "double unlink", .name = "/%", .setup = S_UNLINKED_ONCE,
     .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_REGISTRY_UNLINK, .what = "posix \"//x\" while only \"/x\" is tracked", .name = "//%",
     .setup = S_TRACK_OTHER, .other = "/%", .expected = TRITON_SHM_NOT_FOUND},

    /* ---- the registry's getters ----------------------------------------------------- */
    {.fn = F_REGISTRY_CLEANUP_ALL, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_COUNT, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_COUNT, .what = "out NULL", .null_arg = "out", .out = O_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_CONTAINS, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%",
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_CONTAINS, .what = "name NULL", .null_arg = "name", .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_CONTAINS, .what = "out NULL", .null_arg = "out", .name = "/%", .out = O_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_CONTAINS, .what = "an invalid name is not tracked", .name = "///"},
    {.fn = F_REGISTRY_CONTAINS, .what = "an over-long name is not tracked", .obj = R_DARWIN,
     .name = "/%", .pad = DARWIN_OVER},
    {.fn = F_REGISTRY_STATS, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_STATS, .what = "out NULL", .null_arg = "out", .out = O_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_STATS_FORMAT, .what = "stats NULL", .null_arg = "stats", .obj = R_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_STATS_FORMAT, .what = "out NULL", .null_arg = "out", .buf = B_NULL, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_STATS_FORMAT, .what = "out_len 0", .buf = B_ZERO, .expected = TRITON_SHM_BUFFER_TOO_SMALL},
    {.fn = F_STATS_FORMAT, .what = "out one byte too small", .buf = B_ONE_SHORT,
     .expected = TRITON_SHM_BUFFER_TOO_SMALL},

    /* ---- the _sized exports: a size below the 0.1.0 struct is refused before anything
       is written, cleaned up or reaped -------------------------------------------- */
    {.fn = F_REGISTRY_STATS_SIZED, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_STATS_SIZED, .what = "out NULL", .null_arg = "out", .out = O_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_STATS_SIZED, .what = "out_size 71", .offset = 71,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_STATS_FORMAT_SIZED, .what = "stats NULL", .null_arg = "stats", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_STATS_FORMAT_SIZED, .what = "out NULL", .null_arg = "out", .buf = B_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_STATS_FORMAT_SIZED, .what = "stats_size 8", .offset = 8,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REGISTRY_CLEANUP_ALL_SIZED, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_REGISTRY_CLEANUP_ALL_SIZED, .what = "report_size 39", .offset = 39,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_CLEANUP_ALL_SIZED, .what = "report_size 1", .offset = 1,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REAP_STALE_SIZED, .what = "report_size 47", .offset = 47,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REAP_STALE_SIZED, .what = "struct_size 0", .opt = OPT_STRUCT_SIZE, .value = 0,
     .expected = TRITON_SHM_INVALID_ARGUMENT},

    /* ---- reap_stale ---------------------------------------------------------------- */
    {.fn = F_REAP_STALE, .what = "struct_size 0", .opt = OPT_STRUCT_SIZE, .value = 0,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REAP_STALE, .what = "naming_policy 7", .opt = OPT_NAMING, .value = 7,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_REAP_STALE, .what = "state_dir a symlink", .opt = OPT_STATE_DIR_LINK,
     .expected = TRITON_SHM_PERMISSION_DENIED},
    {.fn = F_REAP_STALE, .what = "state_dir writable by everyone", .opt = OPT_STATE_DIR_OPEN,
     .expected = TRITON_SHM_PERMISSION_DENIED},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

/* ---- the fixture ------------------------------------------------------------- */

static triton_shm_registry *reg_posix, *reg_darwin, *reg_host;
static triton_shm_region *fixture_region;
static char state_dir[256];      /* private directory for the reap rows */
static char state_dir_private[300]; /* a directory with mode 0700 */
static char state_dir_link[300];    /* a symlink to it */
static char state_dir_open[300];    /* a directory with mode 0777 */

static triton_shm_registry *registry_of(enum object_kind kind) {
  switch (kind) {
    case R_NULL: return NULL;
    case R_DEFAULT: return triton_shm_default_registry();
    case R_DARWIN: return reg_darwin;
    case R_HOST: return reg_host;
    case R_VALID:
    case R_POSIX: break;
  }
  return reg_posix;
}

/* Expand a row's name template into `out`: '%' becomes "b<pid>_<row>", then
 * 'x' pads the part after the leading slashes to `pad` bytes. */
static const char *expand(const char *tmpl, size_t pad, size_t row, char *out, size_t len) {
  size_t n = 0, slashes = 0;
  const char *p;
  if (tmpl == NULL) return NULL;
  for (p = tmpl; *p != '\0' && n + 32 < len; p++) {
    if (*p == '%') {
      n += (size_t)snprintf(out + n, len - n, "b%ld_%zu", (long)getpid(), row);
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  while (out[slashes] == '/') slashes++;
  if (pad > 0) {
    REQUIRE(slashes + pad < len);
    REQUIRE(n - slashes <= pad);
    while (n - slashes < pad) out[n++] = 'x';
    out[n] = '\0';
  }
  return out;
}

static size_t open_descriptors(void) {
  size_t n = 0;
  int fd;
  for (fd = 0; fd < 1024; fd++) {
    if (fcntl(fd, F_GETFD) != -1) n++;
  }
  return n;
}

/* Create an object of OBJ bytes whose first and last bytes are PATTERN. */
static int make_object(const char *name) {
  int fd;
  unsigned char *p;
  if (shm_test_create(name, OBJ) != 0) return -1;
  fd = shm_open(name, O_RDWR, 0);
  if (fd < 0) return -1;
  p = mmap(NULL, OBJ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return -1;
  p[0] = PATTERN;
  p[OBJ - 1] = PATTERN;
  munmap(p, OBJ);
  return 0;
}

/* The object `name` still has OBJ bytes and its pattern. */
static int object_intact(const char *name) {
  struct stat st;
  unsigned char *p;
  int ok;
  int fd = shm_open(name, O_RDONLY, 0);
  if (fd < 0) return 0;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size != OBJ) {
    close(fd);
    return 0;
  }
  p = mmap(NULL, OBJ, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return 0;
  ok = p[0] == PATTERN && p[OBJ - 1] == PATTERN;
  munmap(p, OBJ);
  return ok;
}

/* Remove `name` if it exists; names the OS refuses are not there either. */
static void remove_quietly(const char *name) {
  if (shm_unlink(name) != 0 && errno != ENOENT && errno != ENAMETOOLONG && errno != EINVAL) {
    fprintf(stderr, "shm_unlink(\"%s\"): %s\n", name, strerror(errno));
  }
}

typedef struct snapshot {
  triton_shm_stats stats[4];
} snapshot;

static void take_snapshot(snapshot *s) {
  triton_shm_registry *regs[4];
  size_t i;
  regs[0] = triton_shm_default_registry();
  regs[1] = reg_posix;
  regs[2] = reg_darwin;
  regs[3] = reg_host;
  for (i = 0; i < 4; i++) REQUIRE_OK(triton_shm_registry_stats(regs[i], &s->stats[i]));
}

static int is_all(const void *p, size_t len, unsigned char byte) {
  const unsigned char *b = p;
  size_t i;
  for (i = 0; i < len; i++) {
    if (b[i] != byte) return 0;
  }
  return 1;
}

/* Fill `opts` as the row says. The prefix arrays must outlive the call. */
static const triton_shm_options *row_options(const bad_case *c, triton_shm_options *opts) {
  static const char *const null_entry[] = {"host_a_", NULL};
  if (c->opt == OPT_NULL) return NULL;
  REQUIRE_OK(TRITON_SHM_OPTIONS_INIT(opts));
  switch (c->opt) {
    case OPT_STRUCT_SIZE: opts->struct_size = (size_t)c->value; break;
    case OPT_NAMING: opts->naming_policy = (uint32_t)c->value; break;
    case OPT_UNLINK: opts->unlink_policy = (uint32_t)c->value; break;
    case OPT_BACKEND: opts->backend = (uint32_t)c->value; break;
    case OPT_JOURNAL: opts->journal = (uint32_t)c->value; break;
    case OPT_REAP: opts->reap_on_create = (uint32_t)c->value; break;
    case OPT_PREFIXES_NULL:
      opts->reserved_prefixes = NULL;
      opts->reserved_prefix_count = (size_t)c->value;
      break;
    case OPT_PREFIX_ENTRY_NULL:
      opts->reserved_prefixes = null_entry;
      opts->reserved_prefix_count = 2;
      break;
    case OPT_STATE_DIR_LINK: opts->state_dir = state_dir_link; break;
    case OPT_STATE_DIR_OPEN: opts->state_dir = state_dir_open; break;
    case OPT_NONE:
    case OPT_NULL: break;
  }
  return opts;
}

/* Run one row; returns 1 if any of its checks failed. */
static int run_case(const bad_case *c, size_t row) {
  char name_buf[NAME_MAX_BUF], other_buf[NAME_MAX_BUF], normalised[NAME_MAX_BUF];
  char buf[1024], probe[1024], message[1024];
  size_t message_len = UNTOUCHED_SIZE;
  triton_shm_status message_ok;
  int32_t last_errno;
  const char *name = expand(c->name, c->pad, row, name_buf, sizeof name_buf);
  const char *other = expand(c->other, 0, row, other_buf, sizeof other_buf);
  const char *object = other != NULL ? other : name;
  triton_shm_registry *reg = registry_of(c->obj);
  triton_shm_region *const region_sentinel = (triton_shm_region *)&check_failures;
  triton_shm_registry *const registry_sentinel = (triton_shm_registry *)&check_failures;
  triton_shm_region *out_region = region_sentinel;
  triton_shm_registry *out_registry = registry_sentinel;
  triton_shm_region *setup_region = NULL;
  triton_shm_options opts;
  triton_shm_stats stats_in, stats_out;
  triton_shm_cleanup_report cleanup_report;
  triton_shm_reap_report reap_report;
  size_t written = UNTOUCHED_SIZE, needed = 0, count_out = UNTOUCHED_SIZE, len = sizeof buf;
  size_t fds_before, fds_after;
  bool contains_out = true;
  char *out = buf;
  triton_shm_status got = TRITON_SHM_OK;
  snapshot before, after;
  int failures_before = check_failures;
  int has_normalised = 0, returns_status = 1, i;

  memset(buf, FILL, sizeof buf);
  memset(&stats_out, FILL, sizeof stats_out);
  memset(&cleanup_report, FILL, sizeof cleanup_report);
  memset(&reap_report, FILL, sizeof reap_report);
  memset(&opts, FILL, sizeof opts);
  memset(&stats_in, 0, sizeof stats_in);
  stats_in.tracked = 3;
  stats_in.registered = 12345;

  if (name != NULL) {
    has_normalised = triton_shm_normalize_name(name, normalised, sizeof normalised, NULL) ==
                     TRITON_SHM_OK;
  }

  /* Setup. */
  switch (c->setup) {
    case S_OBJECT:
      REQUIRE(make_object(object) == 0);
      break;
    case S_TRACK_OTHER:
      REQUIRE_OK(triton_shm_registry_register(reg, other, true));
      break;
    case S_UNLINKED_ONCE:
      if (c->fn == F_UNLINK_REGION) {
        REQUIRE_OK(triton_shm_register_region(name));
        REQUIRE_OK(triton_shm_unlink_region(name));
      } else {
        REQUIRE_OK(triton_shm_registry_register(reg, name, false));
        REQUIRE_OK(triton_shm_registry_unlink(reg, name));
      }
      break;
    case S_REGION:
      REQUIRE_OK(triton_shm_region_create(reg, name, c->size, 0, &setup_region));
      memset(triton_shm_region_data(setup_region), PATTERN, c->size);
      break;
    case S_ERROR_SET:
    case S_NONE: break;
  }

  take_snapshot(&before);
  fds_before = open_descriptors();
  if (c->setup == S_ERROR_SET) {
    /* After the snapshot, whose calls reset the message. */
    CHECK_STATUS(triton_shm_normalize_name("///", buf, sizeof buf, NULL),
                 TRITON_SHM_INVALID_NAME);
    memset(buf, FILL, sizeof buf);
  }

  /* The buffer: learn the size needed from a call that succeeds. */
  if (c->buf == B_NULL) out = NULL;
  if (c->buf == B_ZERO || c->buf == B_ONE_SHORT) {
    triton_shm_status probed = TRITON_SHM_INTERNAL;
    switch (c->fn) {
      case F_LAST_ERROR_MESSAGE:
        probed = triton_shm_last_error_message(probe, sizeof probe, &needed);
        break;
      case F_NORMALIZE_NAME:
        probed = triton_shm_normalize_name(name, probe, sizeof probe, &needed);
        break;
      case F_SYSTEM_NAME: probed = triton_shm_system_name(name, probe, sizeof probe, &needed); break;
      case F_REGISTRY_SYSTEM_NAME:
        probed = triton_shm_registry_system_name(reg, name, probe, sizeof probe, &needed);
        break;
      case F_REGION_SYSTEM_NAME:
        probed = triton_shm_region_system_name(fixture_region, probe, sizeof probe, &needed);
        break;
      case F_REGION_KEY:
        probed = triton_shm_region_key(fixture_region, probe, sizeof probe, &needed);
        break;
      case F_STATS_FORMAT:
        probed = triton_shm_stats_format(&stats_in, probe, sizeof probe, &needed);
        break;
      default: break;
    }
    REQUIRE_OK(probed);
    REQUIRE(needed > 0);
    /* Nothing fits, or all but the NUL. */
    len = c->buf == B_ZERO ? 0 : needed;
  }

  if (c->env != NULL) REQUIRE(setenv(c->env, c->env_value, 1) == 0);

  switch (c->fn) {
    case F_STATUS_NAME:
      returns_status = 0;
      CHECK_STR(triton_shm_status_name((uint32_t)c->offset), "TRITON_SHM_UNKNOWN_STATUS");
      break;
    case F_LAST_ERROR_MESSAGE: got = triton_shm_last_error_message(out, len, &written); break;
    case F_NORMALIZE_NAME: got = triton_shm_normalize_name(name, out, len, &written); break;
    case F_SYSTEM_NAME: got = triton_shm_system_name(name, out, len, &written); break;
    case F_REGISTRY_SYSTEM_NAME:
      got = triton_shm_registry_system_name(reg, name, out, len, &written);
      break;
    case F_OPTIONS_INIT:
      got = triton_shm_options_init(c->out == O_NULL ? NULL : &opts, c->offset);
      break;
    case F_OPTIONS_FROM_ENV:
      got = triton_shm_options_from_env(c->out == O_NULL ? NULL : &opts, c->offset);
      break;
    case F_REGION_OPEN:
      got = triton_shm_region_open(reg, name, c->offset, c->size, c->flags,
                                   c->out == O_NULL ? NULL : &out_region);
      break;
    case F_REGION_CREATE:
      got = triton_shm_region_create(reg, name, c->size, c->flags,
                                     c->out == O_NULL ? NULL : &out_region);
      break;
    case F_REGION_DATA:
      returns_status = 0;
      CHECK(triton_shm_region_data(NULL) == NULL);
      break;
    case F_REGION_SIZE:
      returns_status = 0;
      CHECK_SIZE(triton_shm_region_size(NULL), 0);
      break;
    case F_REGION_SYSTEM_NAME:
      got = triton_shm_region_system_name(c->obj == R_NULL ? NULL : fixture_region, out, len,
                                          &written);
      break;
    case F_REGION_KEY:
      got = triton_shm_region_key(c->obj == R_NULL ? NULL : fixture_region, out, len, &written);
      break;
    case F_REGION_UNMAP: got = triton_shm_region_unmap(NULL); break;
    case F_REGION_CLOSE: got = triton_shm_region_close(NULL); break;
    case F_REGISTER_REGION: got = triton_shm_register_region(name); break;
    case F_UNLINK_REGION: got = triton_shm_unlink_region(name); break;
    case F_REGISTRY_NEW:
      got = triton_shm_registry_new(row_options(c, &opts),
                                    c->out == O_NULL ? NULL : &out_registry);
      break;
    case F_REGISTRY_FREE:
      returns_status = 0;
      triton_shm_registry_free(reg);
      break;
    case F_REGISTRY_REGISTER: got = triton_shm_registry_register(reg, name, true); break;
    case F_REGISTRY_UNLINK: got = triton_shm_registry_unlink(reg, name); break;
    case F_REGISTRY_CLEANUP_ALL: got = triton_shm_registry_cleanup_all(reg, &cleanup_report); break;
    case F_REGISTRY_COUNT:
      got = triton_shm_registry_count(reg, c->out == O_NULL ? NULL : &count_out);
      break;
    case F_REGISTRY_CONTAINS:
      got = triton_shm_registry_contains(reg, name, c->out == O_NULL ? NULL : &contains_out);
      break;
    case F_REGISTRY_STATS:
      got = triton_shm_registry_stats(reg, c->out == O_NULL ? NULL : &stats_out);
      break;
    case F_STATS_FORMAT:
      got = triton_shm_stats_format(c->obj == R_NULL ? NULL : &stats_in, out, len, &written);
      break;
    case F_REAP_STALE: got = triton_shm_reap_stale(row_options(c, &opts), &reap_report); break;
    case F_REGISTRY_STATS_SIZED:
      got = triton_shm_registry_stats_sized(reg, c->out == O_NULL ? NULL : &stats_out,
                                            c->offset ? c->offset : sizeof stats_out);
      break;
    case F_STATS_FORMAT_SIZED:
      got = triton_shm_stats_format_sized(c->obj == R_NULL ? NULL : &stats_in,
                                          c->offset ? c->offset : sizeof stats_in, out, len,
                                          &written);
      break;
    case F_REGISTRY_CLEANUP_ALL_SIZED:
      got = triton_shm_registry_cleanup_all_sized(
          reg, &cleanup_report, c->offset ? c->offset : sizeof cleanup_report);
      break;
    case F_CLEANUP_ALL_SIZED:
      got = triton_shm_cleanup_all_sized(&cleanup_report,
                                         c->offset ? c->offset : sizeof cleanup_report);
      break;
    case F_REAP_STALE_SIZED:
      got = triton_shm_reap_stale_sized(row_options(c, &opts), &reap_report,
                                        c->offset ? c->offset : sizeof reap_report);
      break;
  }

  /* What the call left for the caller to read, before anything resets it. */
  message_ok = triton_shm_last_error_message(message, sizeof message, &message_len);
  last_errno = triton_shm_last_errno();
  fds_after = open_descriptors();
  take_snapshot(&after);
  if (c->env != NULL) REQUIRE(unsetenv(c->env) == 0);

  if (returns_status) {
    if (c->known != NULL && got == c->expected) {
      fprintf(stderr, "case %zu now returns %s as documented: remove its known-issue mark\n",
              row, triton_shm_status_name(got));
      check_failures++;
    } else if (c->known != NULL) {
      CHECK_STATUS(got, c->current);
      if (got == c->current) {
        printf("known issue: %s, %s: returns %s, not %s: %s\n", fn_names[c->fn], c->what,
               triton_shm_status_name(got), triton_shm_status_name(c->expected), c->known);
      }
    } else {
      CHECK_STATUS(got, c->expected);
    }
    if (c->null_arg != NULL && got == TRITON_SHM_NULL_ARGUMENT) {
      /* The message names the argument, as the header does. */
      char wanted[64];
      snprintf(wanted, sizeof wanted, "'%s' is NULL", c->null_arg);
      CHECK_OK(message_ok);
      if (message_ok == TRITON_SHM_OK && strstr(message, wanted) == NULL) {
        fprintf(stderr, "message \"%s\" does not contain \"%s\"\n", message, wanted);
        check_failures++;
      }
    }
    if (c->fn == F_LAST_ERROR_MESSAGE && c->setup == S_ERROR_SET) {
      /* A failed read leaves the message it could not deliver. */
      CHECK_OK(message_ok);
      CHECK(strstr(message, "'///'") != NULL);
    }
    if (got != TRITON_SHM_OK && c->fn != F_LAST_ERROR_MESSAGE) {
      CHECK_OK(message_ok);
      CHECK(message_len > 0);
      if (got >= 100 && got < 200) CHECK(last_errno == 0);
    } else if (got == TRITON_SHM_OK && c->fn != F_LAST_ERROR_MESSAGE) {
      CHECK_SIZE(message_len, 0);
    }
  }

  /* Outputs. */
  if (got == TRITON_SHM_BUFFER_TOO_SMALL) {
    CHECK_SIZE(written, needed);
    CHECK(needed > 0);
  } else if (got != TRITON_SHM_OK) {
    CHECK_SIZE(written, UNTOUCHED_SIZE);
  }
  if (got == TRITON_SHM_BUFFER_TOO_SMALL && c->fn == F_LAST_ERROR_MESSAGE && len > 0) {
    /* The message, truncated to len - 1 bytes and NUL-terminated; nothing
     * past the buffer the call was given. */
    CHECK(buf[len - 1] == '\0' && strlen(buf) == len - 1);
    CHECK(is_all(buf + len, sizeof buf - len, FILL));
  } else if (got != TRITON_SHM_OK) {
    CHECK(is_all(buf, sizeof buf, FILL));
  }
  CHECK(out_region == region_sentinel);
  CHECK(out_registry == registry_sentinel);
  CHECK_SIZE(count_out, UNTOUCHED_SIZE);
  if (c->fn == F_REGISTRY_CONTAINS && c->out != O_NULL && got == TRITON_SHM_OK) {
    CHECK(contains_out == false);
  } else {
    CHECK(contains_out == true);
  }
  CHECK(is_all(&stats_out, sizeof stats_out, FILL));
  CHECK(is_all(&cleanup_report, sizeof cleanup_report, FILL));
  if (c->fn == F_OPTIONS_INIT || c->fn == F_OPTIONS_FROM_ENV) CHECK(is_all(&opts, sizeof opts, FILL));
  if (c->fn == F_REAP_STALE_SIZED) CHECK(is_all(&reap_report, sizeof reap_report, FILL));
  if (c->fn == F_REAP_STALE && !is_all(&reap_report, sizeof reap_report, FILL)) {
    /* Reported on failure too, as documented: then nothing was reaped. */
    CHECK_SIZE(reap_report.journals_reaped, 0);
    CHECK_SIZE(reap_report.regions_unlinked, 0);
  }

  /* Nothing tracked, registered or mapped. */
  for (i = 0; i < 4; i++) {
    CHECK_SIZE(after.stats[i].tracked, before.stats[i].tracked);
    CHECK_SIZE(after.stats[i].registered, before.stats[i].registered);
    CHECK_SIZE(after.stats[i].mapped_bytes, before.stats[i].mapped_bytes);
    CHECK_SIZE(after.stats[i].unlinked, before.stats[i].unlinked);
  }
  if (name != NULL && reg != NULL && c->fn != F_REGISTRY_FREE) {
    bool tracked = true;
    CHECK_OK(triton_shm_registry_contains(reg, name, &tracked));
    CHECK(tracked == (c->setup == S_REGION));
  }
  CHECK_SIZE(fds_after, fds_before);

  /* No object created; an object set up beforehand untouched. */
  if (c->setup == S_OBJECT) {
    CHECK(object_intact(object));
  } else if (c->setup == S_REGION) {
    const unsigned char *data = triton_shm_region_data(setup_region);
    CHECK(shm_test_exists(name));
    CHECK(data != NULL && data[0] == PATTERN && data[c->size - 1] == PATTERN);
  } else if (name != NULL) {
    CHECK(!shm_test_exists(name));
    if (has_normalised) CHECK(!shm_test_exists(normalised));
  }

  /* Undo the setup and anything a failing row left. */
  if (out_region != region_sentinel && out_region != NULL) triton_shm_region_close(out_region);
  if (out_registry != registry_sentinel && out_registry != NULL) {
    triton_shm_registry_free(out_registry);
  }
  if (setup_region != NULL) CHECK_OK(triton_shm_region_close(setup_region));
  if (c->setup == S_TRACK_OTHER) CHECK_OK(triton_shm_registry_unlink(reg, other));
  if (object != NULL && c->setup == S_OBJECT) shm_test_remove(object);
  if (has_normalised) remove_quietly(normalised);

  if (check_failures != failures_before) {
    fprintf(stderr, "  ^ case %zu: %s: %s%s%s\n\n", row, fn_names[c->fn], c->what,
            name != NULL ? ", name " : "", name != NULL ? name : "");
    return 1;
  }
  return 0;
}

static void make_state_dirs(void) {
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] == '\0') tmp = "/tmp";
  snprintf(state_dir, sizeof state_dir, "%s/tsm-bad-inputs-%ld-XXXXXX", tmp, (long)getpid());
  REQUIRE(mkdtemp(state_dir) != NULL);
  snprintf(state_dir_link, sizeof state_dir_link, "%s/link", state_dir);
  snprintf(state_dir_open, sizeof state_dir_open, "%s/open", state_dir);
  snprintf(state_dir_private, sizeof state_dir_private, "%s/private", state_dir);
  REQUIRE(mkdir(state_dir_private, 0700) == 0);
  REQUIRE(mkdir(state_dir_open, 0700) == 0);
  REQUIRE(chmod(state_dir_open, 0777) == 0);
  REQUIRE(symlink(state_dir_private, state_dir_link) == 0);
}

static void remove_state_dirs(void) {
  CHECK(unlink(state_dir_link) == 0);
  CHECK(rmdir(state_dir_open) == 0);
  CHECK(rmdir(state_dir_private) == 0);
  CHECK(rmdir(state_dir) == 0);
}

int main(void) {
  static const char *const host_prefixes[] = {"host_private_"};
  triton_shm_options opts;
  char fixture_name[64];
  size_t row, bad = 0, boundary = 0, failed = 0, known = 0;

  /* The environment must not choose for the rows. */
  unsetenv("TRITON_SHM_NAMING");
  unsetenv("TRITON_SHM_UNLINK_POLICY");
  unsetenv("TRITON_SHM_JOURNAL");
  unsetenv("TRITON_SHM_REAP_ON_CREATE");
  unsetenv("TRITON_SHM_BACKEND");

  reg_posix = check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
  reg_darwin = check_registry_new(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
  REQUIRE_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  opts.naming_policy = TRITON_SHM_NAMING_POSIX;
  opts.reserved_prefixes = host_prefixes;
  opts.reserved_prefix_count = 1;
  REQUIRE_OK(triton_shm_registry_new(&opts, &reg_host));
  /* A registry opens its journal when it first tracks an owned name and
   * keeps it open: do that now, so that the rows can count descriptors. */
  shm_test_name(fixture_name, sizeof fixture_name, "b", "warm");
  {
    triton_shm_registry *regs[3];
    triton_shm_region *warm = NULL;
    size_t r;
    regs[0] = reg_posix;
    regs[1] = reg_darwin;
    regs[2] = reg_host;
    for (r = 0; r < 3; r++) {
      REQUIRE_OK(triton_shm_region_create(regs[r], fixture_name, 1, 0, &warm));
      REQUIRE_OK(triton_shm_region_close(warm));
    }
    REQUIRE_OK(triton_shm_register_region(fixture_name));
    REQUIRE_OK(triton_shm_unlink_region(fixture_name));
    REQUIRE(!shm_test_exists(fixture_name));
  }
  shm_test_name(fixture_name, sizeof fixture_name, "b", "fixture");
  REQUIRE_OK(triton_shm_region_create(reg_posix, fixture_name, 64, 0, &fixture_region));
  make_state_dirs();

  for (row = 0; row < CASE_COUNT; row++) {
    failed += (size_t)run_case(&cases[row], row);
    if (cases[row].known != NULL) known++;
    if (cases[row].boundary) {
      boundary++;
    } else {
      bad++;
    }
  }

  CHECK_OK(triton_shm_region_close(fixture_region));
  CHECK(!shm_test_exists(fixture_name));
  remove_state_dirs();
  triton_shm_registry_free(reg_host);
  triton_shm_registry_free(reg_darwin);
  triton_shm_registry_free(reg_posix);

  printf("bad inputs: %zu cases, %zu failed, %zu known issue(s) (and %zu boundary controls)\n",
         bad, failed, known, boundary);
  CHECK_DONE();
}
