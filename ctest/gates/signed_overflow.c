/*
 * A deliberate signed-integer overflow: the control that proves
 * UndefinedBehaviorSanitizer is compiled in and halts the program.
 */
#include <limits.h>
#include <stdio.h>

int main(void) {
  volatile int big = INT_MAX;
  int sum = big + 1; /* undefined behaviour */
  printf("INT_MAX + 1 = %d\n", sum);
  return 0;
}
