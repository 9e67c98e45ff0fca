package imageconfig

// All returns the built-in checks, in report order. The list is explicit:
// no init() registration.
func All() []*Check {
	return []*Check{
		RootUser(),
		NoHealthcheck(),
		ConfigSecrets(),
		AddRemote(),
		PrivilegedPorts(),
		SetuidFiles(),
		PackageCaches(),
	}
}
