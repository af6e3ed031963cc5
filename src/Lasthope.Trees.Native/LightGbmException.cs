using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lasthope.Trees.Native.Interop;

namespace Lasthope.Trees.Native;

/// <summary>lib_lightgbm reported an error; the message is LightGBM's own (<c>LGBM_GetLastError</c>).</summary>
public sealed class LightGbmException : Exception
{
    /// <summary>An error without a message.</summary>
    public LightGbmException()
    {
    }

    /// <summary>An error with LightGBM's message.</summary>
    public LightGbmException(string message)
        : base(message)
    {
    }

    /// <summary>An error with a message and its cause.</summary>
    public LightGbmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Turns a C API return code into an exception naming the call.</summary>
    internal static void Check(int result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != 0)
        {
            Throw(call);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(string call)
    {
        var message = Marshal.PtrToStringUTF8(NativeMethods.GetLastError()) ?? "unknown error";
        var name = call.Split('(')[0].Replace("NativeMethods.", "LGBM_", StringComparison.Ordinal);
        throw new LightGbmException($"{name} failed: {message}");
    }
}
