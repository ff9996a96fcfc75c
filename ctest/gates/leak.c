/*
 * A deliberate leak: the control that proves LeakSanitizer and valgrind's
 * "definitely lost" check can fail. Each block's only pointer is
 * overwritten, so the blocks are unreachable at exit. The blocks are made in
 * a separate function, several times, because a leak checker scans stacks
 * and registers conservatively: a stale copy of the last pointer left there
 * would make that one block look reachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS 8
#define BLOCK_SIZE 4096

static void *volatile holder;

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void lose_one_block(void) {
  holder = malloc(BLOCK_SIZE);
  if (holder != NULL) memset(holder, 1, BLOCK_SIZE);
  holder = NULL; /* the block is lost */
}

int main(void) {
  int i;
  for (i = 0; i < BLOCKS; i++) lose_one_block();
  printf("leaked %d blocks of %d bytes\n", BLOCKS, BLOCK_SIZE);
  return 0;
}
