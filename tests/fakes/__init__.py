"""In-process fakes of external systems (Git hosts, Kubernetes API servers) for tests."""
