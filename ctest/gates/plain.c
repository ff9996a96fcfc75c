/*
 * A program built without sanitizers: the check that looks for the sanitizer
 * runtime must find none here, or it proves nothing about the others.
 */
#include <stdio.h>

int main(void) {
  puts("built without sanitizers");
  return 0;
}
