using System.Runtime.InteropServices;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The one system call the drills need that .NET does not offer: sending SIGINT to a child (a clean stop, as Ctrl+C
/// would). <see cref="System.Diagnostics.Process.Kill()"/> sends SIGKILL only.
/// </summary>
internal static class NativeMethods
{
    public const int SigInt = 2;

    /// <summary>kill(2): 0 on success, -1 on error.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
