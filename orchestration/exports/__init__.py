"""Operator exports: files with patient identifiers, written only by explicit commands, never published."""
