// Test-wide environment: quiet logs unless a test asks for them, and no SDK heads-up about
// Node 20 (Lambda runs Node 22; the code stays runnable on 20 on purpose).
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
