module libpacing.invalid/pacing

go 1.19
