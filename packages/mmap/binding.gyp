{
  "targets": [
    {
      "target_name": "silt_mmap",
      "sources": ["native/addon.c", "native/map.c", "native/read-at.c", "native/crc32.c", "native/merge.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
