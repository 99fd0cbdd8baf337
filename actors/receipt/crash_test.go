package receipt

func crashChild(dir string) {}

const crashChildEnv = "BIZRA_RECEIPT_TEST_CRASH_DIR"
