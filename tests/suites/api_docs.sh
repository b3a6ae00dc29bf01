#!/bin/sh
# Every public function has its entry in docs/api.md.
exec sh tools/check-api-docs.sh
