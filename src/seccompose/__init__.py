"""seccompose: compose least-privilege seccomp profiles for containers."""
