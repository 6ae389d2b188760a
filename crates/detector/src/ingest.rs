//! Reading inputs: paths, folders, stdin, decompression with a size cap.
