using Spectre.Console;

namespace Lasthope.Cli;

/// <summary>
/// Where a command writes. <see cref="Out"/> carries the command's data (scores, JSON, tables meant for pipes);
/// <see cref="Console"/> carries what people read: progress bars, rich tables, messages. By default the latter goes
/// to standard error so that standard output stays machine-readable. Tests pass their own writers.
/// </summary>
public sealed class CliContext
{
    public CliContext(TextWriter output, IAnsiConsole console, TextWriter error)
    {
        Out = output;
        Console = console;
        Error = error;
    }

    /// <summary>Machine-readable output (stdout).</summary>
    public TextWriter Out { get; }

    /// <summary>Human-facing output: progress, tables, messages (stderr by default).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Plain error text (stderr).</summary>
    public TextWriter Error { get; }

    /// <summary>The real process streams.</summary>
    public static CliContext FromProcess() => new(
        System.Console.Out,
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) }),
        System.Console.Error);

    /// <summary>"invalid configuration: ..." for a setting or an argument the server refused, without the parameter-name suffix.</summary>
    public static string Invalid(ArgumentException exception) => $"invalid configuration: {MessageOf(exception)}";

    /// <summary>A library's argument error as a message for people: without the parameter-name suffix.</summary>
    public static string MessageOf(ArgumentException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.ParamName is { } name ? exception.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : exception.Message;
    }

    /// <summary>Writes a one-line error and returns the exit code, so commands can <c>return ctx.Fail(...)</c>.</summary>
    public int Fail(int exitCode, string message)
    {
        Error.WriteLine($"error: {message}");
        return exitCode;
    }

    /// <summary>Writes a command's JSON to <paramref name="path"/>, or to standard output when it is "-" (the <c>--json</c> options).</summary>
    public async Task WriteJsonAsync(string path, string json, CancellationToken cancellationToken)
    {
        if (path == "-")
        {
            Out.WriteLine(json);
        }
        else
        {
            await File.WriteAllTextAsync(path, json + "\n", cancellationToken);
        }
    }
}
