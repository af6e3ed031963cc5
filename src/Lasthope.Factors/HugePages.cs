using System.Runtime.InteropServices;

namespace Lasthope.Factors;

/// <summary>
/// Asks Linux to back a large buffer with 2 MB transparent huge pages (madvise(MADV_HUGEPAGE)); a no-op elsewhere.
/// </summary>
/// <remarks>
/// A half-step reads the fixed side's rows in the order of the sparse matrix's column indices, which is random for
/// the side that does not fit in the cache (138,000 users x 256 bytes = 35 MB on the MovieLens-20M shape). With 4 KB
/// pages nearly every such read also misses the TLB (Zen 4's 3,072 second-level entries cover 12 MB), and under
/// virtualisation each page walk is two-dimensional and costs hundreds of cycles. A 2 MB page covers 8,192 rows of
/// 64 factors. The advice only changes how the kernel maps the memory, never its contents; where transparent huge
/// pages are off ("never") it is ignored, and with "madvise" (the usual distribution default) it is what enables them.
/// </remarks>
internal static partial class HugePages
{
    /// <summary>Huge pages are worth asking for from this many bytes on.</summary>
    public const long MinimumBytes = 4L << 20;

    private const int MadviseHugePage = 14;
    private const long PageBytes = 2L << 20;

    /// <summary>
    /// Advises huge pages for the 2 MB-aligned part of [<paramref name="address"/>, + <paramref name="bytes"/>). Call it
    /// before the memory is first written: pages already faulted in stay small until the kernel's background collapse.
    /// </summary>
    public static void Advise(nint address, long bytes)
    {
        if (!OperatingSystem.IsLinux() || bytes < MinimumBytes)
        {
            return;
        }

        var start = (address + (nint)(PageBytes - 1)) & ~(nint)(PageBytes - 1);
        var end = (address + (nint)bytes) & ~(nint)(PageBytes - 1);
        if (end > start)
        {
            // Advice, not a requirement: a failure (an old kernel, a seccomp filter, a libc without the symbol) leaves
            // ordinary pages.
            try
            {
                _ = Madvise(start, (nuint)(end - start), MadviseHugePage);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No madvise to call: ordinary pages.
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
