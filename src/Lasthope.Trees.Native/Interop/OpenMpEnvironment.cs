using System.Runtime.InteropServices;

namespace Lasthope.Trees.Native.Interop;

/// <summary>
/// Sets the OpenMP runtime's environment before lib_lightgbm loads it.
/// <para>
/// Why PASSIVE: by default GNU OpenMP keeps idle worker threads spinning for a while (GOMP_SPINCOUNT, 300,000 spins)
/// after each parallel region, so that the next region starts a few microseconds sooner. LightGBM runs hundreds of
/// small parallel regions per iteration; between them its workers spin at 100% of a core. Lasthope trains inside the
/// process that also serves requests, on machines as small as two cores: spinning workers would take the cores that
/// request threads need, and two spinning pools (training and the .NET thread pool) oversubscribe them. With
/// OMP_WAIT_POLICY=PASSIVE idle workers sleep at once; training loses a few percent, serving loses nothing.
/// </para>
/// <para>
/// .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not change the native environment on
/// Unix, which is what libgomp reads, so this calls the C library's <c>setenv</c>. It does not overwrite a value the
/// user set, so <c>OMP_WAIT_POLICY=ACTIVE</c> still works for a dedicated training machine.
/// </para>
/// </summary>
internal static partial class OpenMpEnvironment
{
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";
    public const string WaitPolicy = "PASSIVE";

    public static void Configure()
    {
        if (OperatingSystem.IsWindows())
        {
            if (Environment.GetEnvironmentVariable(WaitPolicyVariable) is null)
            {
                Environment.SetEnvironmentVariable(WaitPolicyVariable, WaitPolicy);
            }

            return;
        }

        _ = SetEnv(WaitPolicyVariable, WaitPolicy, overwrite: 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
