#!/bin/sh
# A package installed during an image build never starts its service.
exit 101
