package main

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// lookupEnv reads the process environment through the C library. The Go
// runtime of a c-shared library keeps the copy it took at load, while the
// host changes the C one later (Python's os.environ, setenv): Open hands
// this to the engine as Config.LookupEnv, so every documented variable set
// before the engine is opened counts.
func lookupEnv(key string) (string, bool) {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	v := C.getenv(k)
	if v == nil {
		return "", false
	}
	return C.GoString(v), true
}
