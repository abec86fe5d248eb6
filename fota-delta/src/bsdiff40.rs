//! The classic BSDIFF40 format (std): written by `diff`, read by `apply`.
