namespace Dapp.Config.Templates;

/// <summary>A template's text and the file it came from (the dappfile, or a <c>.dappfiles/**/*.tmpl</c>), for errors.</summary>
internal sealed record TemplateSource(string File, string Text)
{
    public SourceLocation Locate(int offset) => SourceLocation.Of(Text, Math.Clamp(offset, 0, Text.Length), File);

    public DappfileException Error(int offset, string message) => new(Locate(offset), message);
}
