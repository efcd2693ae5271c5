#include "completion.hpp"

#include <sstream>

namespace stylize::cli {
namespace {

std::string option_words(const CLI::App& app) {
    std::string words;
    for (const auto* opt : app.get_options()) {
        for (const auto& l : opt->get_lnames()) words += " --" + l;
        for (const auto& s : opt->get_snames()) words += " -" + s;
    }
    return words;
}

// add_choice gives an option that takes one of a few words the type name
// "a|b|c".
std::string choice_cases(const CLI::App& app) {
    std::ostringstream out;
    for (const auto* opt : app.get_options()) {
        const std::string type = opt->get_type_name();
        if (opt->get_lnames().empty() || type.find('|') == std::string::npos) continue;
        std::string words = type;
        for (auto& c : words)
            if (c == '|') c = ' ';
        out << "        --" << opt->get_lnames().front() << ") COMPREPLY=($(compgen -W \"" << words
            << "\" -- \"$cur\")); return ;;\n";
    }
    return out.str();
}

}  // namespace

std::string bash_completion(const CLI::App& main, const std::vector<const CLI::App*>& commands) {
    std::ostringstream out;
    std::string names;
    for (const auto* c : commands) names += (names.empty() ? "" : " ") + c->get_name();
    out << "# bash completion for stylize (made by `stylize --completion bash`)\n"
        << "_stylize() {\n"
        << "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd=\"\"\n"
        << "    [ \"$COMP_CWORD\" -gt 1 ] && case \"${COMP_WORDS[1]}\" in " << (names.empty() ? "_" : "") ;
    for (size_t i = 0; i < commands.size(); ++i) out << (i ? "|" : "") << commands[i]->get_name();
    out << ") cmd=\"${COMP_WORDS[1]}\" ;; esac\n"
        << "    local opts\n"
        << "    case \"$cmd\" in\n";
    for (const auto* c : commands) {
        out << "    " << c->get_name() << ")\n        case \"$prev\" in\n"
            << choice_cases(*c) << "        esac\n"
            << "        opts=\"" << option_words(*c) << " --help\" ;;\n";
    }
    out << "    *)\n        case \"$prev\" in\n" << choice_cases(main) << "        esac\n"
        << "        opts=\"" << option_words(main) << " --help --version\"\n"
        << "        if [ \"$COMP_CWORD\" -eq 1 ] && [[ \"$cur\" != -* ]]; then\n"
        << "            COMPREPLY=($(compgen -W \"" << names << "\" -- \"$cur\") $(compgen -f -- \"$cur\")); return\n"
        << "        fi ;;\n"
        << "    esac\n"
        << "    if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); "
        << "else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
        << "}\n"
        << "complete -o filenames -o bashdefault -F _stylize stylize\n";
    return out.str();
}

}  // namespace stylize::cli
