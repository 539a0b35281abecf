#!/bin/bash
# Harness self-test: a guest that never finishes (run with a short LAB_TIMEOUT) is
# killed by the host and its scenarios are reported as failed with the reason.
# lab-timeout: 100000
sleep 100000
