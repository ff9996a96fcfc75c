# Every function the C header declares is accounted for in the two lists
# that are kept by hand next to it:
#
#   - the bad-input corpus (ctest/bad_inputs.c): the function is an EXPORT
#     line there with at least one row (`.fn = F_...`), or a NO_ROWS line
#     saying why it takes nothing a caller could get wrong;
#   - the C++ wrapper (triton_shm.hpp): the wrapper calls it (directly or
#     through one of the header's function-like macros), or it is in
#     `not_wrapped` below with the reason.
#
# Entries that name no header function, or a function that is covered both
# ways, fail too: a list that has gone stale is as wrong as one that is
# short. After a pass, the same check runs on two altered copies, a header
# with one more prototype and a corpus without the rows of its first
# EXPORT, and each must fail, or the pass proves nothing.
#
#   cmake -DHEADER=<triton_shm.h> -DWRAPPER=<triton_shm.hpp>
#         -DCORPUS=<bad_inputs.c> -P check_export_lists.cmake
cmake_minimum_required(VERSION 3.18)

# The header functions the C++ wrapper leaves to the C API, one per line:
# "name: why". A C++ host calls these directly.
set(not_wrapped
  # The default registry is the process-wide one of the original
  # SharedMemoryManager; a C++ host owns a Registry instead.
  "triton_shm_default_registry: the wrapper's registries are owned Registry objects, not the process-wide default"
  "triton_shm_register_region: a free function on the default registry (Registry::Register is the wrapper's)"
  "triton_shm_unlink_region: a free function on the default registry (Registry::Unlink is the wrapper's)"
  "triton_shm_cleanup_all: a free function on the default registry (Registry::CleanupAll is the wrapper's)"
  "triton_shm_cleanup_all_sized: a free function on the default registry (Registry::CleanupAll is the wrapper's)"
  # The 0.1.0 forms without a size: the wrapper calls the _sized ones.
  "triton_shm_registry_stats: the wrapper calls triton_shm_registry_stats_sized"
  "triton_shm_stats_format: the wrapper calls triton_shm_stats_format_sized"
  # Process-wide calls with no object for a C++ class to own.
  "triton_shm_reap_stale: process-wide maintenance (Options::reap_on_create covers registries)"
  "triton_shm_reap_stale_sized: process-wide maintenance (Options::reap_on_create covers registries)"
  "triton_shm_set_log_callback: a process-wide C callback with its user data"
  "triton_shm_last_errno: Status carries the message, which names the errno and its text"
)

foreach(input HEADER WRAPPER CORPUS)
  if(NOT ${input} OR NOT EXISTS "${${input}}")
    message(FATAL_ERROR "check_export_lists.cmake: -D${input}=<file> is required (got '${${input}}')")
  endif()
endforeach()

# Remove /* */ comments, and // comments that start a line or follow a
# blank (so that a string such as "//name" stays), from the variable `var`.
function(strip_comments var)
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" text "${${var}}")
  string(REGEX REPLACE "(^|[\n \t])//[^\n]*" "\\1" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

# check_lists(HEADER_TEXT WRAPPER_TEXT CORPUS_TEXT OUT): set OUT to the
# list of problems, one sentence each (empty when the lists agree).
function(check_lists header wrapper corpus out)
  set(problems)

  # The header's prototypes: a line that starts with the return type and
  # names a triton_shm_ function before its first parenthesis.
  string(REGEX MATCHALL "\n[a-z][^(\n]*[ *]triton_shm_[a-z0-9_]+\\(" lines "\n${header}")
  set(declared)
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^\ntypedef" AND line MATCHES "(triton_shm_[a-z0-9_]+)\\($")
      list(APPEND declared "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES declared)
  list(LENGTH declared count)
  if(count EQUAL 0)
    set(${out} "no triton_shm_ function prototype found in the header" PARENT_SCOPE)
    return()
  endif()

  # The corpus: EXPORT(F_X, name) lines, their rows, NO_ROWS(name, "why").
  set(text "${corpus}")
  strip_comments(text)
  string(REGEX MATCHALL "EXPORT\\(F_[A-Z0-9_]+, *[a-z0-9_]+\\)" exports "${text}")
  string(REGEX MATCHALL "NO_ROWS\\([a-z0-9_]+, *\"[^\"]*\"\\)" no_rows "${text}")
  string(REGEX MATCHALL "\\.fn *= *F_[A-Z0-9_]+" rows "${text}")
  string(REGEX REPLACE "\\.fn *= *" "" rows "${rows}")
  if(NOT exports)
    list(APPEND problems "the corpus has no EXPORT(F_..., name) lines")
  endif()
  set(in_corpus)
  foreach(entry IN LISTS exports)
    string(REGEX REPLACE "EXPORT\\((F_[A-Z0-9_]+), *([a-z0-9_]+)\\)" "\\1;triton_shm_\\2" pair "${entry}")
    list(GET pair 0 id)
    list(GET pair 1 function)
    list(APPEND in_corpus "${function}")
    if(NOT id IN_LIST rows)
      list(APPEND problems "${function} (${id}) is an EXPORT of the corpus, but no row has .fn = ${id}")
    endif()
  endforeach()
  set(exempt)
  foreach(entry IN LISTS no_rows)
    string(REGEX REPLACE "NO_ROWS\\(([a-z0-9_]+), *\"([^\"]*)\"\\)" "triton_shm_\\1" function "${entry}")
    if(entry MATCHES ", *\"\"\\)$")
      list(APPEND problems "${function} is a NO_ROWS line of the corpus without a reason")
    endif()
    if(function IN_LIST in_corpus)
      list(APPEND problems "${function} is both an EXPORT and a NO_ROWS line of the corpus")
    endif()
    list(APPEND exempt "${function}")
  endforeach()
  foreach(function IN LISTS in_corpus exempt)
    if(NOT function IN_LIST declared)
      list(APPEND problems "${function} is in the corpus's lists but not declared in the header")
    endif()
  endforeach()

  # The wrapper: the functions it calls, directly or through a header macro.
  set(text "${wrapper}")
  strip_comments(text)
  string(REGEX MATCHALL "triton_shm_[a-z0-9_]+\\(" calls "${text}")
  string(REGEX MATCHALL "#define [A-Z0-9_]+\\([^)\n]*\\)[^\n]*triton_shm_[a-z0-9_]+\\(" macros "${header}")
  foreach(macro IN LISTS macros)
    if(macro MATCHES "^#define ([A-Z0-9_]+)\\(.*(triton_shm_[a-z0-9_]+)\\($")
      set(function "${CMAKE_MATCH_2}(")
      string(FIND "${text}" "${CMAKE_MATCH_1}(" at)
      if(NOT at EQUAL -1)
        list(APPEND calls "${function}")
      endif()
    endif()
  endforeach()
  string(REPLACE "(" "" wrapped "${calls}")
  set(unwrapped)
  foreach(entry IN LISTS not_wrapped)
    if(NOT entry MATCHES "^(triton_shm_[a-z0-9_]+): [^ ]")
      list(APPEND problems "not_wrapped entry '${entry}' is not 'name: why'")
      continue()
    endif()
    set(function "${CMAKE_MATCH_1}")
    list(APPEND unwrapped "${function}")
    if(NOT function IN_LIST declared)
      list(APPEND problems "${function} is in not_wrapped but not declared in the header")
    elseif(function IN_LIST wrapped)
      list(APPEND problems "${function} is in not_wrapped but the wrapper calls it")
    endif()
  endforeach()

  foreach(function IN LISTS declared)
    if(NOT function IN_LIST in_corpus AND NOT function IN_LIST exempt)
      string(CONCAT problem "${function} has no rows in the bad-input corpus: give it an EXPORT "
                            "line and rows in ctest/bad_inputs.c, or a NO_ROWS line saying why")
      list(APPEND problems "${problem}")
    endif()
    if(NOT function IN_LIST wrapped AND NOT function IN_LIST unwrapped)
      string(CONCAT problem "${function} is neither called by the C++ wrapper nor in not_wrapped "
                            "(ctest/cmake/check_export_lists.cmake) with the reason")
      list(APPEND problems "${problem}")
    endif()
  endforeach()
  set(${out} "${problems}" PARENT_SCOPE)
  set(declared_count ${count} PARENT_SCOPE)
endfunction()

# Keep ';' out of the texts: CMake would split lists on it.
foreach(input HEADER WRAPPER CORPUS)
  file(READ "${${input}}" content)
  string(REPLACE ";" "," content "${content}")
  set(${input}_TEXT "${content}")
endforeach()

check_lists("${HEADER_TEXT}" "${WRAPPER_TEXT}" "${CORPUS_TEXT}" problems)
if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR "check_export_lists.cmake: the export lists miss or misname functions "
                      "of ${HEADER}:\n  ${problems}")
endif()
message(STATUS "${declared_count} header functions: each has rows in the bad-input corpus "
               "or a NO_ROWS reason, and is called by the C++ wrapper or in not_wrapped")

# The controls.
check_lists("${HEADER_TEXT}\ntriton_shm_status triton_shm_added_by_the_control(void),\n"
            "${WRAPPER_TEXT}" "${CORPUS_TEXT}" problems)
if(NOT problems MATCHES "triton_shm_added_by_the_control has no rows in the bad-input corpus"
   OR NOT problems MATCHES "triton_shm_added_by_the_control is neither called by the C\\+\\+ wrapper")
  message(FATAL_ERROR "check_export_lists.cmake: the control (one more prototype in the header) "
                      "was not reported missing from both lists: ${problems}")
endif()
string(REGEX MATCH "EXPORT\\((F_[A-Z0-9_]+)," first "${CORPUS_TEXT}")
set(first "${CMAKE_MATCH_1}")
string(REGEX REPLACE "\\.fn *= *${first}([^A-Z0-9_])" ".fn = REMOVED\\1" corpus_altered "${CORPUS_TEXT}")
check_lists("${HEADER_TEXT}" "${WRAPPER_TEXT}" "${corpus_altered}" problems)
if(NOT first OR NOT problems MATCHES "\\(${first}\\) is an EXPORT of the corpus, but no row")
  message(FATAL_ERROR "check_export_lists.cmake: the control (the corpus without the rows of "
                      "'${first}') was not reported: ${problems}")
endif()
message(STATUS "the controls (a prototype added to the header, the rows of ${first} removed "
               "from the corpus) fail, as they must")
