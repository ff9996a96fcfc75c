#include "raw_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void raw_touch_pages(void *data, size_t size, size_t page) {
  volatile unsigned char *bytes = (volatile unsigned char *)data;
  for (size_t at = 0; at < size; at += page) bytes[at] = (unsigned char)(at >> 12);
}

int raw_region_life(const char *name, size_t size, size_t touched, size_t page) {
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return errno;
  int err = 0;
  if (ftruncate(fd, (off_t)size) != 0) {
    err = errno;
  } else {
    void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      err = errno;
    } else {
      raw_touch_pages(data, touched, page);
      if (munmap(data, size) != 0) err = errno;
    }
  }
  if (close(fd) != 0 && err == 0) err = errno;
  if (shm_unlink(name) != 0 && err == 0) err = errno;
  return err;
}

int raw_region_life_checked(const char *name, const char *check_path, size_t size,
                            size_t touched, size_t page) {
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return errno;
  int err = 0;
  struct stat created;
  if (fstat(fd, &created) != 0 || ftruncate(fd, (off_t)size) != 0) {
    err = errno;
  } else {
    void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      err = errno;
    } else {
      raw_touch_pages(data, touched, page);
      if (munmap(data, size) != 0) err = errno;
    }
  }
  if (close(fd) != 0 && err == 0) err = errno;
  struct stat now;
  if (check_path != NULL) {
    if (lstat(check_path, &now) != 0 && err == 0) err = errno;
  } else {
    const int again = shm_open(name, O_RDWR, 0);
    if (again < 0 || fstat(again, &now) != 0) {
      if (err == 0) err = errno;
    }
    if (again >= 0) close(again);
  }
  if (err == 0 && (now.st_dev != created.st_dev || now.st_ino != created.st_ino)) err = -1;
  if (shm_unlink(name) != 0 && err == 0) err = errno;
  return err;
}

int raw_create_empty(const char *const *names, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    int fd = shm_open(names[i], O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return errno;
    close(fd);
  }
  return 0;
}

size_t raw_unlink_all(const char *const *names, size_t count) {
  size_t unlinked = 0;
  for (size_t i = 0; i < count; ++i) {
    if (shm_unlink(names[i]) == 0) ++unlinked;
  }
  return unlinked;
}
