#!/usr/bin/env bash
# Nothing to stop: start.sh only installs chromium, and every test launches (and ends) its own
# headless browser. Kept so that every service has start.sh and stop.sh.
exit 0
