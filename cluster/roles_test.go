package cluster_test

func runRole() {}
