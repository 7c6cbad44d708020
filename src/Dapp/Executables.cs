namespace Dapp;

/// <summary>
/// Finds external tools by absolute path on PATH: on Linux, starting a tool by bare name looks in the application's
/// own folder first.
/// </summary>
internal static class Executables
{
    /// <param name="path">The PATH to search; the process's own when null.</param>
    public static string? Find(string name, string? path = null) =>
        (path ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
