namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope loadtest --text</c>: bad combinations and unusable text files exit 2 naming the problem, before any request is sent.</summary>
public sealed class LoadTextOptionsTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public LoadTextOptionsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public static TheoryData<string, string> BadInput() => new()
    {
        { "--predict taiwan --rows ROWS --text sentiment", "cannot be used with --predict" },
        { "--texts LINES", "--texts needs --text NAME" },
        { "--text sentiment --texts MISSING", "--texts: no file" },
        { "--text sentiment --texts CSV --text-column body", "has no column 'body'" },
        { "--text sentiment --texts EMPTY", "has no texts" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Loadtest_TextMode_BadInput_ExitsWith2_NamingTheProblem(string change, string message)
    {
        var files = new Dictionary<string, string>
        {
            ["ROWS"] = Write("rows.csv", "a,b\n1,2\n"),
            ["LINES"] = Write("texts.txt", "my card never came\nI was charged twice\n"),
            ["CSV"] = Write("texts.csv", "text,label\nmy card never came,0\n"),
            ["EMPTY"] = Write("empty.txt", "\n  \n"),
            ["MISSING"] = Path.Combine(_dir, "none.txt"),
        };
        string[] args = ["loadtest", "--url", "http://127.0.0.1:1", "--duration", "1", .. change.Split(' ').Select(a => files.GetValueOrDefault(a, a))];

        var (exit, _, error) = await CliHarness.RunAsync(args);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
