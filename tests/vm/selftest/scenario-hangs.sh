#!/bin/bash
# Harness self-test: a scenario that never ends is stopped by its own time limit and
# reported as failed, and the scenarios after it still run.
# lab-timeout: 5
sleep 1000
