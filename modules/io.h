/* io.h — the parts of std/io, one file each, joined by io_module_init()
 * (modules/io.c):
 *
 *   io.c       whole-file reads and writes, glob patterns, StringIO
 *   io_fs.c    paths, directories, copying, metadata, path strings
 *   io_file.c  open file handles (io.open), the standard streams
 */
#ifndef QUEST_IO_H
#define QUEST_IO_H

#include "modules/modules.h"

void io_fs_init(qvm *vm, qmodule *m);
void io_file_init(qvm *vm, qmodule *m);

#endif
