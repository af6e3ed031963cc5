using Xunit.Sdk;

namespace Lasthope.Testing;

/// <summary>
/// The one rule for a test whose prerequisite (a data set, a server binary) is absent: skip with a message naming what
/// is missing, except under CI (the environment variable CI is set), where it fails instead, so CI never skips silently.
/// </summary>
internal static class Prerequisite
{
    private static readonly bool IsCi = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>The exception to throw: a skip carrying <paramref name="message"/>, or a failure under CI.</summary>
    public static Exception Missing(string message) => IsCi
        ? FailException.ForFailure(message + " CI is set, so this is a failure, not a skip.")
        : SkipException.ForSkip(message);
}
