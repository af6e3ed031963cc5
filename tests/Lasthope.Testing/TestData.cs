namespace Lasthope.Testing;

/// <summary>
/// Locates the shared real data sets (../shared/data from the repository root). A test that needs one calls
/// <see cref="Require"/>: where the folder is absent the test is skipped with a message naming it, except under CI
/// (the environment variable CI is set), where it fails instead, so CI never skips real-data tests silently.
/// </summary>
public static class TestData
{
    /// <summary>The shared data root: LASTHOPE_DATA if set, else ../shared/data above the repository root.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Returns the full path of <paramref name="relativePath"/> under the data root, or skips/fails the test.</summary>
    public static string Require(string relativePath)
    {
        var path = Path.Combine(Root, relativePath);
        if (File.Exists(path) || Directory.Exists(path))
        {
            return path;
        }

        throw Prerequisite.Missing($"Real data '{relativePath}' not found under {Root} (set LASTHOPE_DATA to the shared data folder).");
    }

    /// <summary>The repository root (the folder holding Lasthope.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("LASTHOPE_DATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        return Path.GetFullPath(Path.Combine(FindRepositoryRoot(), "..", "shared", "data"));
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lasthope.slnx")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
