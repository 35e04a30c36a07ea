{
  "targets": [
    {
      "target_name": "silt_mmap",
      "sources": ["native/mmap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
