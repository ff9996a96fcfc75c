/* Control of the slow shm_open and munmap of slow_system_calls.c. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Make each later shm_open and munmap sleep `us` microseconds first (0:
 * none). */
void slow_calls_set_us(long us);

/* How many slowed calls are under way. */
int slow_calls_under_way(void);

#ifdef __cplusplus
}
#endif
