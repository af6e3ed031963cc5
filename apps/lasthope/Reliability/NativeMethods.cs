using System.Runtime.InteropServices;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The one system call the drills need that .NET does not offer: sending SIGTERM to a child (a clean stop, as
/// systemd, Docker or Kubernetes ask for one). <see cref="System.Diagnostics.Process.Kill()"/> sends SIGKILL only.
/// </summary>
internal static class NativeMethods
{
    public const int SigTerm = 15;

    /// <summary>kill(2): 0 on success, -1 on error.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
