// Small string helpers: case folding, edit distance for "did you mean", joining.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dyprof {

std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string Trim(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Non-empty and every character an ASCII digit 0-9.
bool IsDigits(std::string_view s);

// Levenshtein distance (insert, delete, substitute all cost 1).
int EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` (case-insensitive), or "" when none is within
// max(2, |word|/3) edits. Used for "did you mean 'X'?" hints.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// The up-to-`n` candidates closest to `word` by edit distance, closest first.
std::vector<std::string> ClosestMatches(std::string_view word, const std::vector<std::string>& candidates,
                                        size_t n);

// Formats a double the way Python's repr would for typical values ("2000.0", "0.5", "1e-06" → "1e-06").
std::string FormatPyFloat(double v);

}  // namespace dyprof
