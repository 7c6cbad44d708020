using Dapp.Config.Templates;

namespace Dapp.Config;

/// <summary>
/// Renders a dappfile as dapp did (docs/dappfile.md): Go's text/template language with sprig's functions, <c>include</c>,
/// <c>.Files.Get</c>, and the <c>.dappfiles/**/*.tmpl</c> files of the work dir as named templates (by their path
/// relative to <c>.dappfiles</c>). Errors name the file, line and column, and the action or function. Files are read
/// only inside the project (<see cref="ProjectFiles"/>), and the rendering stays within <see cref="TemplateLimits"/>.
/// </summary>
internal static class DappfileTemplate
{
    public const string SnippetsDir = ".dappfiles";

    /// <param name="files">The project's files that <c>.Files.Get</c> and <c>.dappfiles</c> may read; null for none.</param>
    /// <param name="warn">Told about a file <c>.Files.Get</c> does not find.</param>
    public static string Render(string text, string file, Func<string, string?> environment, ProjectFiles? files = null, Action<string>? warn = null) =>
        TemplateLimits.OnLargeStack(() => RenderHere(text, file, environment, files, warn ?? (_ => { })));

    private static string RenderHere(string text, string file, Func<string, string?> environment, ProjectFiles? files, Action<string> warn)
    {
        var set = new TemplateSet(new TemplateFunctions(environment));
        if (files is not null) AddSnippets(set, files);
        set.Add(file, new TemplateSource(file, text));
        var data = new Dictionary<string, object?> { ["Files"] = new DappfileFiles(files, warn) };
        return set.Execute(file, data);
    }

    private static void AddSnippets(TemplateSet set, ProjectFiles files)
    {
        var snippets = Path.Combine(files.WorkDir, SnippetsDir);
        if (!Directory.Exists(snippets)) return;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var path in Directory.EnumerateFiles(snippets, "*.tmpl", options).Order(StringComparer.Ordinal))
        {
            var name = Path.GetRelativePath(snippets, path).Replace(Path.DirectorySeparatorChar, '/');
            var place = $"{SnippetsDir}/{name}";
            byte[] bytes;
            try
            {
                bytes = files.ReadBytes(Path.GetRelativePath(files.WorkDir, path), place) ?? [];
            }
            catch (TemplateRuntimeException e)
            {
                throw new DappfileException(new SourceLocation(place, 1, 1), e.Message);
            }
            // Decoded as the dappfile is (UTF-8, no NUL), an error naming its line and column.
            set.Add(name, new TemplateSource(place, DappfileLoader.Decode(bytes, place)));
        }
    }
}

/// <summary>
/// <c>.Files</c>: <c>.Files.Get PATH</c> reads a file of the project relative to the dappfile ("" when there is none,
/// as dapp did); a path outside the project, or a file over the size bound, is an error.
/// </summary>
internal sealed class DappfileFiles(ProjectFiles? files, Action<string> warn) : ITemplateObject
{
    public Func<object?[], object?>? Method(string name) => name == "Get" ? Get : null;

    private object? Get(object?[] args)
    {
        if (args.Length != 1) throw new TemplateRuntimeException($"wrong number of args for Get: want 1 got {args.Length}");
        var path = Values.Text(args[0]);
        if (files is null) return "";
        try
        {
            if (files.ReadBytes(path, GoFormat.Quote(path)) is { } bytes) return DappfileLoader.DecodeUtf8(bytes, path);
            warn($".Files.Get \"{path}\": no such file in the project; using \"\"");
            return "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TemplateRuntimeException($"cannot read {path}: {e.Message}");
        }
    }
}
