using Dapp.Config;

namespace Dapp.Tests.Unit;

public class TemplateTests
{
    private static string? Env(string name) => name == "VERSION" ? "1.2" : null;

    [Fact]
    public void Env_is_substituted_and_unset_is_empty()
    {
        Assert.Equal("v: 1.2 x: ", DappfileTemplate.Render("v: {{ env \"VERSION\" }} x: {{env \"NOPE\"}}", "dappfile.yml", Env));
    }

    [Fact]
    public void Comments_are_removed() =>
        Assert.Equal("a: 1\n", DappfileTemplate.Render("a: 1{{/* note */}}\n", "dappfile.yml", Env));

    [Fact]
    public void Unsupported_action_names_its_position()
    {
        var e = Assert.Throws<DappfileException>(() => DappfileTemplate.Render("a: 1\nb: {{ .Values.x }}\n", "dappfile.yml", Env));
        Assert.Equal(new SourceLocation("dappfile.yml", 2, 4), e.Location);
        Assert.StartsWith("dappfile.yml:2:4: unsupported template action", e.Message);
    }
}
