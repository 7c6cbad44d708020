using Dapp.Config.Templates;

namespace Dapp.Config;

/// <summary>
/// Renders a dappfile as dapp did (docs/dappfile.md): Go's text/template language with sprig's functions, <c>include</c>,
/// <c>.Files.Get</c>, and the <c>.dappfiles/**/*.tmpl</c> files of the work dir as named templates (by their path
/// relative to <c>.dappfiles</c>). Errors name the file, line and column, and the action or function.
/// </summary>
public static class DappfileTemplate
{
    public const string SnippetsDir = ".dappfiles";

    /// <param name="dir">The work dir: where <c>.Files.Get</c> reads and <c>.dappfiles</c> is; null for none.</param>
    /// <param name="warn">Told about a file <c>.Files.Get</c> cannot read.</param>
    public static string Render(string text, string file, Func<string, string?> environment, string? dir = null, Action<string>? warn = null)
    {
        var set = new TemplateSet(new TemplateFunctions(environment));
        if (dir is not null && Directory.Exists(Path.Combine(dir, SnippetsDir)))
        {
            var snippets = Path.Combine(dir, SnippetsDir);
            foreach (var path in Directory.EnumerateFiles(snippets, "*.tmpl", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var name = Path.GetRelativePath(snippets, path).Replace(Path.DirectorySeparatorChar, '/');
                var snippetText = DappfileLoader.Decode(File.ReadAllBytes(path), $"{SnippetsDir}/{name}");
                set.Add(name, new TemplateSource($"{SnippetsDir}/{name}", snippetText));
            }
        }
        set.Add(file, new TemplateSource(file, text));
        var data = new Dictionary<string, object?> { ["Files"] = new DappfileFiles(dir, warn ?? (_ => { })) };
        return set.Execute(file, data);
    }

    internal static SourceLocation LocationOf(string text, int index, string file)
    {
        int line = 1, col = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return new SourceLocation(file, line, col);
    }
}

/// <summary><c>.Files</c>: <c>.Files.Get PATH</c> reads a file relative to the dappfile; a file it cannot read warns and gives "".</summary>
internal sealed class DappfileFiles(string? dir, Action<string> warn) : ITemplateObject
{
    public Func<object?[], object?>? Method(string name) => name == "Get" ? Get : null;

    private object? Get(object?[] args)
    {
        if (args.Length != 1) throw new TemplateRuntimeException($"wrong number of args for Get: want 1 got {args.Length}");
        var path = Values.Text(args[0]);
        if (dir is null) return "";
        var full = Path.GetFullPath(Path.Combine(dir, path));
        try
        {
            return File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($".Files.Get \"{path}\": cannot read {full} ({e.Message}); using \"\"");
            return "";
        }
    }
}
