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
 * Prints "bad inputs: N cases, F failed" and exits non-zero if F > 0, or if
 * the list of exports below names one that no row calls.
 *
 * A new export gets an EXPORT line in that list, a call_<name> function
 * beside the others, and its rows; a function with nothing a caller could get
 * wrong gets a NO_ROWS line with the reason instead. CTest's
 * export_lists_cover_the_header fails until it has one or the other.
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

/*
 * The exports, one line each, and every function of triton_shm.h is in
 * exactly one of the two lists:
 *
 *   EXPORT(ENUM, NAME)   a function with rows in the corpus below. NAME is
 *                        the function without its "triton_shm_" prefix;
 *                        ENUM is what a row's .fn says; call_NAME (below
 *                        the table) makes the call a row describes.
 *   NO_ROWS(NAME, WHY)   a function that takes nothing a caller could get
 *                        wrong, and why.
 *
 * The enum, the names the output prints and the table of calls are all made
 * from EXPORTS, so they cannot disagree. This program fails when an EXPORT
 * has no row; CTest's export_lists_cover_the_header
 * (ctest/cmake/check_export_lists.cmake) fails when a header function is in
 * neither list.
 */
#define EXPORTS(EXPORT)                                            \
  EXPORT(F_STATUS_NAME, status_name)                               \
  EXPORT(F_LAST_ERROR_MESSAGE, last_error_message)                 \
  EXPORT(F_NORMALIZE_NAME, normalize_name)                         \
  EXPORT(F_SYSTEM_NAME, system_name)                               \
  EXPORT(F_REGISTRY_SYSTEM_NAME, registry_system_name)             \
  EXPORT(F_OPTIONS_INIT, options_init)                             \
  EXPORT(F_REGION_OPEN, region_open)                               \
  EXPORT(F_REGION_CREATE, region_create)                           \
  EXPORT(F_REGION_DATA, region_data)                               \
  EXPORT(F_REGION_SIZE, region_size)                               \
  EXPORT(F_REGION_SYSTEM_NAME, region_system_name)                 \
  EXPORT(F_REGION_KEY, region_key)                                 \
  EXPORT(F_REGION_CLOSE, region_close)                             \
  EXPORT(F_REGISTER_REGION, register_region)                       \
  EXPORT(F_UNLINK_REGION, unlink_region)                           \
  EXPORT(F_REGISTRY_NEW, registry_new)                             \
  EXPORT(F_REGISTRY_FREE, registry_free)                           \
  EXPORT(F_REGISTRY_REGISTER, registry_register)                   \
  EXPORT(F_REGISTRY_UNLINK, registry_unlink)                       \
  EXPORT(F_REGISTRY_CLEANUP_ALL, registry_cleanup_all)             \
  EXPORT(F_REGISTRY_COUNT, registry_count)                         \
  EXPORT(F_REGISTRY_CONTAINS, registry_contains)                   \
  EXPORT(F_REGISTRY_STATS, registry_stats)                         \
  EXPORT(F_STATS_FORMAT, stats_format)                             \
  EXPORT(F_REAP_STALE, reap_stale)                                 \
  EXPORT(F_OPTIONS_FROM_ENV, options_from_env)                     \
  EXPORT(F_REGION_UNMAP, region_unmap)                             \
  EXPORT(F_REGISTRY_STATS_SIZED, registry_stats_sized)             \
  EXPORT(F_STATS_FORMAT_SIZED, stats_format_sized)                 \
  EXPORT(F_REGISTRY_CLEANUP_ALL_SIZED, registry_cleanup_all_sized) \
  EXPORT(F_CLEANUP_ALL_SIZED, cleanup_all_sized)                   \
  EXPORT(F_REAP_STALE_SIZED, reap_stale_sized)                     \
  EXPORT(F_MAPPING_OPEN, mapping_open)                             \
  EXPORT(F_MAPPING_CLOSE, mapping_close)

#define NOT_IN_CORPUS(NO_ROWS)                                                          \
  NO_ROWS(last_errno, "takes no argument")                                              \
  NO_ROWS(default_registry, "takes no argument")                                        \
  NO_ROWS(version, "takes no argument")                                                 \
  NO_ROWS(set_log_callback, "any callback, NULL included, and any user_data are valid") \
  NO_ROWS(cleanup_all, "its one argument, report, may be NULL")

#define AS_ENUM(id, name) id,
#define AS_NAME(id, name) "triton_shm_" #name,
enum export_fn { EXPORTS(AS_ENUM) EXPORT_COUNT };
static const char *const fn_names[] = {EXPORTS(AS_NAME)};

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
    {.fn = F_REGION_OPEN, .what = "flags 2", .name = "/%", .size = 1, .flags = 2,
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

    /* ---- mapping_open: region_open's checks, in its order; the plain names
     * that take the direct path to the system are refused alike ----------- */
    {.fn = F_MAPPING_OPEN, .what = "reg NULL", .null_arg = "reg", .obj = R_NULL, .name = "/%",
     .size = 1, .setup = S_OBJECT, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_MAPPING_OPEN, .what = "key NULL", .null_arg = "key", .size = 1,
     .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_MAPPING_OPEN, .what = "out NULL", .null_arg = "out", .name = "/%", .size = 1,
     .out = O_NULL, .setup = S_OBJECT, .expected = TRITON_SHM_NULL_ARGUMENT},
    {.fn = F_MAPPING_OPEN, .what = "byte_size 0", .name = "/%", .size = 0, .setup = S_OBJECT,
     .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_MAPPING_OPEN, .what = "byte_size 0, no object (looked for first)", .name = "/%",
     .size = 0, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_MAPPING_OPEN, .what = "flags 1 (it has none)", .name = "/%", .size = 1, .flags = 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_INVALID_ARGUMENT},
    {.fn = F_MAPPING_OPEN, .what = "posix \"\"", .name = "", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_MAPPING_OPEN, .what = "posix inner slash", .name = "/%/a", .size = 1,
     .expected = TRITON_SHM_INVALID_NAME},
    {.fn = F_MAPPING_OPEN, .what = "posix one byte over", .name = "/%", .pad = POSIX_OVER,
     .size = 1, .expected = TRITON_SHM_NAME_TOO_LONG},
    {.fn = F_MAPPING_OPEN, .what = "reserved python, \"/\", the object there",
     .name = "/triton_python_backend_shm_region_%", .size = 1, .setup = S_OBJECT,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_MAPPING_OPEN, .what = "host-reserved prefix, the object there", .obj = R_HOST,
     .name = "//host_private_%", .size = 1, .setup = S_OBJECT,
     .expected = TRITON_SHM_RESERVED_NAME},
    {.fn = F_MAPPING_OPEN, .what = "no such object (posix)", .name = "/%", .size = 1,
     .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_MAPPING_OPEN, .what = "no such object (darwin)", .obj = R_DARWIN, .name = "/%",
     .size = 1, .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_MAPPING_OPEN, .what = "posix \"//x\" while \"/x\" is tracked (no collision)",
     .name = "//%", .size = 1, .setup = S_TRACK_OTHER, .other = "/%",
     .expected = TRITON_SHM_NOT_FOUND},
    {.fn = F_MAPPING_OPEN, .what = "byte_size one past the object", .name = "/%",
     .size = OBJ + 1, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_MAPPING_OPEN, .what = "offset at the end", .name = "/%", .offset = OBJ, .size = 1,
     .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_MAPPING_OPEN, .what = "offset 1, byte_size SIZE_MAX (sum overflows)", .name = "/%",
     .offset = 1, .size = SIZE_MAX, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_MAPPING_OPEN, .what = "darwin byte_size one past the object", .obj = R_DARWIN,
     .name = "/%", .size = OBJ + 1, .setup = S_OBJECT, .expected = TRITON_SHM_OUT_OF_BOUNDS},
    {.fn = F_MAPPING_CLOSE, .what = "mapping NULL", .null_arg = "mapping", .obj = R_NULL,
     .expected = TRITON_SHM_NULL_ARGUMENT},

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

/* ---- one row: setup, call, verify ------------------------------------------- */

/* Sentinels the out-pointers keep unless a call writes them. */
#define REGION_SENTINEL ((triton_shm_region *)&check_failures)
#define REGISTRY_SENTINEL ((triton_shm_registry *)&check_failures)

/* Everything one row sets up, hands the call, and observes after it. */
typedef struct row_state {
  const bad_case *c;
  size_t row;
  char name_buf[NAME_MAX_BUF], other_buf[NAME_MAX_BUF], normalised[NAME_MAX_BUF];
  const char *name, *other, *object; /* object: what S_OBJECT creates */
  int has_normalised;
  triton_shm_registry *reg;
  triton_shm_region *setup_region;
  /* What a call may write, each filled with a value it keeps unless written. */
  char buf[1024];
  char *out;           /* buf, or NULL for a B_NULL row */
  size_t len;          /* the size the call is told `out` has */
  size_t *out_written; /* &written; &needed while probing */
  size_t written, needed, count_out;
  bool contains_out;
  triton_shm_region *out_region;
  triton_shm_mapping out_mapping;
  triton_shm_registry *out_registry;
  triton_shm_options opts;
  triton_shm_stats stats_in, stats_out;
  triton_shm_cleanup_report cleanup_report;
  triton_shm_reap_report reap_report;
  /* The call's result and what it left for the caller to read. */
  triton_shm_status got;
  int returns_status;
  char message[1024];
  size_t message_len;
  triton_shm_status message_ok;
  int32_t last_errno;
  size_t fds_before, fds_after;
  snapshot before, after;
} row_state;

/* An out-pointer argument: NULL for an O_NULL row. */
#define OUT_ARG(s, field) ((s)->c->out == O_NULL ? NULL : &(s)->field)
/* The region and stats arguments: NULL for an R_NULL row. */
#define REGION_ARG(s) ((s)->c->obj == R_NULL ? NULL : fixture_region)
#define STATS_ARG(s) ((s)->c->obj == R_NULL ? NULL : &(s)->stats_in)
/* A _sized export's struct size: the row's, or the struct's own. */
#define SIZE_ARG(s, field) ((s)->c->offset ? (s)->c->offset : sizeof (s)->field)

/* The calls, one per EXPORT: the row's arguments, the export's status. An
 * export that returns no status checks its result here and clears
 * returns_status. */
static triton_shm_status call_status_name(row_state *s) {
  s->returns_status = 0;
  CHECK_STR(triton_shm_status_name((uint32_t)s->c->offset), "TRITON_SHM_UNKNOWN_STATUS");
  return TRITON_SHM_OK;
}
static triton_shm_status call_last_error_message(row_state *s) {
  return triton_shm_last_error_message(s->out, s->len, s->out_written);
}
static triton_shm_status call_normalize_name(row_state *s) {
  return triton_shm_normalize_name(s->name, s->out, s->len, s->out_written);
}
static triton_shm_status call_system_name(row_state *s) {
  return triton_shm_system_name(s->name, s->out, s->len, s->out_written);
}
static triton_shm_status call_registry_system_name(row_state *s) {
  return triton_shm_registry_system_name(s->reg, s->name, s->out, s->len, s->out_written);
}
static triton_shm_status call_options_init(row_state *s) {
  return triton_shm_options_init(OUT_ARG(s, opts), s->c->offset);
}
static triton_shm_status call_options_from_env(row_state *s) {
  return triton_shm_options_from_env(OUT_ARG(s, opts), s->c->offset);
}
static triton_shm_status call_region_open(row_state *s) {
  return triton_shm_region_open(s->reg, s->name, s->c->offset, s->c->size, s->c->flags,
                                OUT_ARG(s, out_region));
}
static triton_shm_status call_region_create(row_state *s) {
  return triton_shm_region_create(s->reg, s->name, s->c->size, s->c->flags,
                                  OUT_ARG(s, out_region));
}
static triton_shm_status call_region_data(row_state *s) {
  s->returns_status = 0;
  CHECK(triton_shm_region_data(NULL) == NULL);
  return TRITON_SHM_OK;
}
static triton_shm_status call_region_size(row_state *s) {
  s->returns_status = 0;
  CHECK_SIZE(triton_shm_region_size(NULL), 0);
  return TRITON_SHM_OK;
}
static triton_shm_status call_region_system_name(row_state *s) {
  return triton_shm_region_system_name(REGION_ARG(s), s->out, s->len, s->out_written);
}
static triton_shm_status call_region_key(row_state *s) {
  return triton_shm_region_key(REGION_ARG(s), s->out, s->len, s->out_written);
}
static triton_shm_status call_region_unmap(row_state *s) {
  (void)s;
  return triton_shm_region_unmap(NULL);
}
static triton_shm_status call_region_close(row_state *s) {
  (void)s;
  return triton_shm_region_close(NULL);
}
static triton_shm_status call_mapping_open(row_state *s) {
  return triton_shm_mapping_open(s->reg, s->name, s->c->offset, s->c->size, s->c->flags,
                                 OUT_ARG(s, out_mapping));
}
static triton_shm_status call_mapping_close(row_state *s) {
  (void)s;
  return triton_shm_mapping_close(NULL);
}
static triton_shm_status call_register_region(row_state *s) {
  return triton_shm_register_region(s->name);
}
static triton_shm_status call_unlink_region(row_state *s) {
  return triton_shm_unlink_region(s->name);
}
static triton_shm_status call_registry_new(row_state *s) {
  return triton_shm_registry_new(row_options(s->c, &s->opts), OUT_ARG(s, out_registry));
}
static triton_shm_status call_registry_free(row_state *s) {
  s->returns_status = 0;
  triton_shm_registry_free(s->reg);
  return TRITON_SHM_OK;
}
static triton_shm_status call_registry_register(row_state *s) {
  return triton_shm_registry_register(s->reg, s->name, true);
}
static triton_shm_status call_registry_unlink(row_state *s) {
  return triton_shm_registry_unlink(s->reg, s->name);
}
static triton_shm_status call_registry_cleanup_all(row_state *s) {
  return triton_shm_registry_cleanup_all(s->reg, &s->cleanup_report);
}
static triton_shm_status call_registry_count(row_state *s) {
  return triton_shm_registry_count(s->reg, OUT_ARG(s, count_out));
}
static triton_shm_status call_registry_contains(row_state *s) {
  return triton_shm_registry_contains(s->reg, s->name, OUT_ARG(s, contains_out));
}
static triton_shm_status call_registry_stats(row_state *s) {
  return triton_shm_registry_stats(s->reg, OUT_ARG(s, stats_out));
}
static triton_shm_status call_stats_format(row_state *s) {
  return triton_shm_stats_format(STATS_ARG(s), s->out, s->len, s->out_written);
}
static triton_shm_status call_reap_stale(row_state *s) {
  return triton_shm_reap_stale(row_options(s->c, &s->opts), &s->reap_report);
}
static triton_shm_status call_registry_stats_sized(row_state *s) {
  return triton_shm_registry_stats_sized(s->reg, OUT_ARG(s, stats_out), SIZE_ARG(s, stats_out));
}
static triton_shm_status call_stats_format_sized(row_state *s) {
  return triton_shm_stats_format_sized(STATS_ARG(s), SIZE_ARG(s, stats_in), s->out, s->len,
                                       s->out_written);
}
static triton_shm_status call_registry_cleanup_all_sized(row_state *s) {
  return triton_shm_registry_cleanup_all_sized(s->reg, &s->cleanup_report,
                                               SIZE_ARG(s, cleanup_report));
}
static triton_shm_status call_cleanup_all_sized(row_state *s) {
  return triton_shm_cleanup_all_sized(&s->cleanup_report, SIZE_ARG(s, cleanup_report));
}
static triton_shm_status call_reap_stale_sized(row_state *s) {
  return triton_shm_reap_stale_sized(row_options(s->c, &s->opts), &s->reap_report,
                                     SIZE_ARG(s, reap_report));
}

#define AS_CALL(id, name) call_##name,
static triton_shm_status (*const export_calls[])(row_state *) = {EXPORTS(AS_CALL)};

/* Fill everything the call may write, and expand the row's names. */
static void row_init(row_state *s, const bad_case *c, size_t row) {
  memset(s, 0, sizeof *s);
  s->c = c;
  s->row = row;
  s->name = expand(c->name, c->pad, row, s->name_buf, sizeof s->name_buf);
  s->other = expand(c->other, 0, row, s->other_buf, sizeof s->other_buf);
  s->object = s->other != NULL ? s->other : s->name;
  s->reg = registry_of(c->obj);
  s->setup_region = NULL;
  memset(s->buf, FILL, sizeof s->buf);
  s->out = s->buf;
  s->len = sizeof s->buf;
  s->out_written = &s->written;
  s->written = UNTOUCHED_SIZE;
  s->needed = 0;
  s->count_out = UNTOUCHED_SIZE;
  s->contains_out = true;
  s->out_region = REGION_SENTINEL;
  memset(&s->out_mapping, FILL, sizeof s->out_mapping);
  s->out_registry = REGISTRY_SENTINEL;
  memset(&s->stats_out, FILL, sizeof s->stats_out);
  memset(&s->cleanup_report, FILL, sizeof s->cleanup_report);
  memset(&s->reap_report, FILL, sizeof s->reap_report);
  memset(&s->opts, FILL, sizeof s->opts);
  memset(&s->stats_in, 0, sizeof s->stats_in);
  s->stats_in.tracked = 3;
  s->stats_in.registered = 12345;
  s->got = TRITON_SHM_OK;
  s->returns_status = 1;
  s->message_len = UNTOUCHED_SIZE;
  s->has_normalised = 0;
  if (s->name != NULL) {
    s->has_normalised = triton_shm_normalize_name(s->name, s->normalised, sizeof s->normalised,
                                                  NULL) == TRITON_SHM_OK;
  }
}

/* What must exist before the call: an object, a tracked name, a region. */
static void row_setup(row_state *s) {
  const bad_case *c = s->c;
  switch (c->setup) {
    case S_OBJECT:
      REQUIRE(make_object(s->object) == 0);
      break;
    case S_TRACK_OTHER:
      REQUIRE_OK(triton_shm_registry_register(s->reg, s->other, true));
      break;
    case S_UNLINKED_ONCE:
      if (c->fn == F_UNLINK_REGION) {
        REQUIRE_OK(triton_shm_register_region(s->name));
        REQUIRE_OK(triton_shm_unlink_region(s->name));
      } else {
        REQUIRE_OK(triton_shm_registry_register(s->reg, s->name, false));
        REQUIRE_OK(triton_shm_registry_unlink(s->reg, s->name));
      }
      break;
    case S_REGION:
      REQUIRE_OK(triton_shm_region_create(s->reg, s->name, c->size, 0, &s->setup_region));
      memset(triton_shm_region_data(s->setup_region), PATTERN, c->size);
      break;
    case S_ERROR_SET:
    case S_NONE: break;
  }
}

/* The state the row must leave as it is, then what the call needs last: a
 * message to read, the buffer's size, the environment variable. */
static void row_prepare_call(row_state *s) {
  const bad_case *c = s->c;
  take_snapshot(&s->before);
  s->fds_before = open_descriptors();
  if (c->setup == S_ERROR_SET) {
    /* After the snapshot, whose calls reset the message. */
    CHECK_STATUS(triton_shm_normalize_name("///", s->buf, sizeof s->buf, NULL),
                 TRITON_SHM_INVALID_NAME);
    memset(s->buf, FILL, sizeof s->buf);
  }
  if (c->buf == B_NULL) s->out = NULL;
  if (c->buf == B_ZERO || c->buf == B_ONE_SHORT) {
    /* Learn the size needed from the same call with a buffer that fits. */
    char probe[1024];
    s->out = probe;
    s->len = sizeof probe;
    s->out_written = &s->needed;
    REQUIRE_OK(export_calls[c->fn](s));
    REQUIRE(s->needed > 0);
    s->out = s->buf;
    s->out_written = &s->written;
    /* Nothing fits, or all but the NUL. */
    s->len = c->buf == B_ZERO ? 0 : s->needed;
  }
  if (c->env != NULL) REQUIRE(setenv(c->env, c->env_value, 1) == 0);
}

/* Make the row's call and read what it left before anything resets it. */
static void row_call(row_state *s) {
  s->got = export_calls[s->c->fn](s);
  s->message_ok = triton_shm_last_error_message(s->message, sizeof s->message, &s->message_len);
  s->last_errno = triton_shm_last_errno();
  s->fds_after = open_descriptors();
  take_snapshot(&s->after);
  if (s->c->env != NULL) REQUIRE(unsetenv(s->c->env) == 0);
}

/* The status, a known deviation from it, and the message the call left. */
static void verify_status(const row_state *s) {
  const bad_case *c = s->c;
  triton_shm_status got = s->got;
  if (c->known != NULL && got == c->expected) {
    fprintf(stderr, "case %zu now returns %s as documented: remove its known-issue mark\n",
            s->row, triton_shm_status_name(got));
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
    CHECK_OK(s->message_ok);
    if (s->message_ok == TRITON_SHM_OK && strstr(s->message, wanted) == NULL) {
      fprintf(stderr, "message \"%s\" does not contain \"%s\"\n", s->message, wanted);
      check_failures++;
    }
  }
  if (c->fn == F_LAST_ERROR_MESSAGE && c->setup == S_ERROR_SET) {
    /* A failed read leaves the message it could not deliver. */
    CHECK_OK(s->message_ok);
    CHECK(strstr(s->message, "'///'") != NULL);
  }
  if (got != TRITON_SHM_OK && c->fn != F_LAST_ERROR_MESSAGE) {
    CHECK_OK(s->message_ok);
    CHECK(s->message_len > 0);
    if (got >= 100 && got < 200) CHECK(s->last_errno == 0);
  } else if (got == TRITON_SHM_OK && c->fn != F_LAST_ERROR_MESSAGE) {
    CHECK_SIZE(s->message_len, 0);
  }
}

/* Every output the call was handed still holds its fill or sentinel, but
 * for what a BUFFER_TOO_SMALL or a success may write. */
static void verify_outputs(const row_state *s) {
  const bad_case *c = s->c;
  triton_shm_status got = s->got;
  size_t len = s->len;
  if (got == TRITON_SHM_BUFFER_TOO_SMALL) {
    CHECK_SIZE(s->written, s->needed);
    CHECK(s->needed > 0);
  } else if (got != TRITON_SHM_OK) {
    CHECK_SIZE(s->written, UNTOUCHED_SIZE);
  }
  if (got == TRITON_SHM_BUFFER_TOO_SMALL && c->fn == F_LAST_ERROR_MESSAGE && len > 0) {
    /* The message, truncated to len - 1 bytes and NUL-terminated; nothing
     * past the buffer the call was given. */
    CHECK(s->buf[len - 1] == '\0' && strlen(s->buf) == len - 1);
    CHECK(is_all(s->buf + len, sizeof s->buf - len, FILL));
  } else if (got != TRITON_SHM_OK) {
    CHECK(is_all(s->buf, sizeof s->buf, FILL));
  }
  CHECK(s->out_region == REGION_SENTINEL);
  CHECK(is_all(&s->out_mapping, sizeof s->out_mapping, FILL));
  CHECK(s->out_registry == REGISTRY_SENTINEL);
  CHECK_SIZE(s->count_out, UNTOUCHED_SIZE);
  if (c->fn == F_REGISTRY_CONTAINS && c->out != O_NULL && got == TRITON_SHM_OK) {
    CHECK(s->contains_out == false);
  } else {
    CHECK(s->contains_out == true);
  }
  CHECK(is_all(&s->stats_out, sizeof s->stats_out, FILL));
  CHECK(is_all(&s->cleanup_report, sizeof s->cleanup_report, FILL));
  if (c->fn == F_OPTIONS_INIT || c->fn == F_OPTIONS_FROM_ENV) {
    CHECK(is_all(&s->opts, sizeof s->opts, FILL));
  }
  if (c->fn == F_REAP_STALE_SIZED) CHECK(is_all(&s->reap_report, sizeof s->reap_report, FILL));
  if (c->fn == F_REAP_STALE && !is_all(&s->reap_report, sizeof s->reap_report, FILL)) {
    /* Reported on failure too, as documented: then nothing was reaped. */
    CHECK_SIZE(s->reap_report.journals_reaped, 0);
    CHECK_SIZE(s->reap_report.regions_unlinked, 0);
  }
}

/* Nothing tracked, registered, mapped or opened; no object created; an
 * object set up beforehand untouched. */
static void verify_nothing_left(const row_state *s) {
  const bad_case *c = s->c;
  int i;
  for (i = 0; i < 4; i++) {
    CHECK_SIZE(s->after.stats[i].tracked, s->before.stats[i].tracked);
    CHECK_SIZE(s->after.stats[i].registered, s->before.stats[i].registered);
    CHECK_SIZE(s->after.stats[i].mapped_bytes, s->before.stats[i].mapped_bytes);
    CHECK_SIZE(s->after.stats[i].unlinked, s->before.stats[i].unlinked);
  }
  if (s->name != NULL && s->reg != NULL && c->fn != F_REGISTRY_FREE) {
    bool tracked = true;
    CHECK_OK(triton_shm_registry_contains(s->reg, s->name, &tracked));
    CHECK(tracked == (c->setup == S_REGION));
  }
  CHECK_SIZE(s->fds_after, s->fds_before);

  if (c->setup == S_OBJECT) {
    CHECK(object_intact(s->object));
  } else if (c->setup == S_REGION) {
    const unsigned char *data = triton_shm_region_data(s->setup_region);
    CHECK(shm_test_exists(s->name));
    CHECK(data != NULL && data[0] == PATTERN && data[c->size - 1] == PATTERN);
  } else if (s->name != NULL) {
    CHECK(!shm_test_exists(s->name));
    if (s->has_normalised) CHECK(!shm_test_exists(s->normalised));
  }
}

/* Undo the setup and anything a failing row left. */
static void row_teardown(row_state *s) {
  if (s->out_region != REGION_SENTINEL && s->out_region != NULL) {
    triton_shm_region_close(s->out_region);
  }
  if (!is_all(&s->out_mapping, sizeof s->out_mapping, FILL)) {
    triton_shm_mapping_close(&s->out_mapping);
  }
  if (s->out_registry != REGISTRY_SENTINEL && s->out_registry != NULL) {
    triton_shm_registry_free(s->out_registry);
  }
  if (s->setup_region != NULL) CHECK_OK(triton_shm_region_close(s->setup_region));
  if (s->c->setup == S_TRACK_OTHER) CHECK_OK(triton_shm_registry_unlink(s->reg, s->other));
  if (s->object != NULL && s->c->setup == S_OBJECT) shm_test_remove(s->object);
  if (s->has_normalised) remove_quietly(s->normalised);
}

/* Run one row; returns 1 if any of its checks failed. */
static int run_case(const bad_case *c, size_t row) {
  row_state s;
  int failures_before = check_failures;

  row_init(&s, c, row);
  row_setup(&s);
  row_prepare_call(&s);
  row_call(&s);
  if (s.returns_status) verify_status(&s);
  verify_outputs(&s);
  verify_nothing_left(&s);
  row_teardown(&s);

  if (check_failures != failures_before) {
    fprintf(stderr, "  ^ case %zu: %s: %s%s%s\n\n", row, fn_names[c->fn], c->what,
            s.name != NULL ? ", name " : "", s.name != NULL ? s.name : "");
    return 1;
  }
  return 0;
}

/* The lists themselves: every EXPORT has a row, no function is in both
 * lists, and (by compiling) every name is a function of the header. */
#define AS_NO_ROWS_NAME(name, why) "triton_shm_" #name,
#define DECLARED(id, name) (void)&triton_shm_##name;
#define NO_ROWS_DECLARED(name, why) (void)&triton_shm_##name;
static void check_lists(void) {
  static const char *const no_rows[] = {NOT_IN_CORPUS(AS_NO_ROWS_NAME)};
  size_t rows[EXPORT_COUNT] = {0};
  size_t i, fn;
  EXPORTS(DECLARED)
  NOT_IN_CORPUS(NO_ROWS_DECLARED)
  for (i = 0; i < CASE_COUNT; i++) rows[cases[i].fn]++;
  for (fn = 0; fn < EXPORT_COUNT; fn++) {
    if (rows[fn] == 0) {
      fprintf(stderr, "%s is in EXPORTS but no row of the corpus calls it\n", fn_names[fn]);
      check_failures++;
    }
    for (i = 0; i < sizeof no_rows / sizeof no_rows[0]; i++) {
      if (strcmp(fn_names[fn], no_rows[i]) == 0) {
        fprintf(stderr, "%s is in both EXPORTS and NOT_IN_CORPUS\n", no_rows[i]);
        check_failures++;
      }
    }
  }
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
  check_lists();

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
