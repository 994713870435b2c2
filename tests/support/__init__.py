"""Test and benchmark support: synthetic ledger histories and throwaway servers."""
