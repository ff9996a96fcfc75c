/*
 * A deliberate heap-buffer-overflow: the control that proves the sanitizer
 * and valgrind gates can fail. It must be reported, never pass quietly.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  volatile size_t len = 8;
  char *buf = malloc(len);
  int past_the_end;
  if (buf == NULL) return 2;
  buf[0] = 'x';
  past_the_end = buf[len]; /* one byte past the allocation */
  printf("read %d past the end\n", past_the_end);
  free(buf);
  return 0;
}
