#!/bin/sh
# The application put into the hello-git dimg by a git path.
echo "hello from git, version $(cat /srv/app/VERSION)"
