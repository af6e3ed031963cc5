namespace Lasthope.Cli;

/// <summary>Process exit codes of the lasthope CLI. Scripts may rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and failed (a test of the data failed, a server was unreachable, ...).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: an argument, a file or its content is invalid. The message says which.</summary>
    public const int BadInput = 2;

    /// <summary>Something named does not exist (an item, a model version, a file).</summary>
    public const int NotFound = 3;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
