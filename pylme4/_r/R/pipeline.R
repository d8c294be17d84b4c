# R-side helpers of reproducible pipelines (pylme4/pipeline/): what R says
# about itself for the provenance block of results.json, and how R turns
# values into the text that factor() matches levels against.

# Everything results.json records about this R: its version, the versions of
# the packages pylme4 uses (pylme4_versions() in core.R, less R itself, which
# `version` holds), the BLAS and LAPACK it calls (numbers can differ in the
# last bits between BLAS builds), the random number generators that give a
# seed its meaning, and the platform.
pylme4_provenance <- function() {
  si <- utils::sessionInfo()
  ext <- extSoftVersion()
  packages <- pylme4_versions()
  list(
    version = paste(R.version$major, R.version$minor, sep = "."),
    version_string = R.version.string,
    platform = R.version$platform,
    running = if (is.null(si$running)) NA_character_ else si$running,
    packages = as.list(packages[names(packages) != "R"]),
    blas = unname(ext[["BLAS"]]),
    blas_library = if (is.null(si$BLAS)) NA_character_ else si$BLAS,
    lapack_library = La_library(),
    lapack_version = La_version(),
    rng_kind = as.list(RNGkind()),
    locale_ctype = Sys.getlocale("LC_CTYPE"),
    locale_collate = Sys.getlocale("LC_COLLATE")
  )
}

# The doubles read.csv() reads from the text of a CSV file's decimal columns
# (a named list of character vectors): type.convert() and as.numeric() both
# parse with R_strtod, which is not always correctly rounded, so pandas'
# reading can differ in the last bit.
pylme4_parse_doubles <- function(columns) {
  lapply(columns, function(x) I(as.numeric(x)))
}

# The text factor(x, levels = ...) matches: as.character() of the column's
# values and of each level (a list of length-one vectors: text, integers,
# doubles and logicals as the spec writes them), as the exported R script's
# pylme4_as_factor() matches them (both in script.R).
pylme4_factor_text <- function(values, levels) {
  list(values = as.list(as.character(values)),
       levels = as.list(pylme4_level_text(levels)))
}

# The formula R's update(base, change) fits: update.formula() of the base
# model's formula with the change (". ~ . - Days"), as update.merMod makes it,
# deparsed on one line.  `base` is the base model's fit (its formula as lme4
# keeps it, with (x || g) expanded, is what update() starts from) or, to
# check a spec before anything is fitted, its formula's text.  Both formulas
# have passed the spec's trust check.
pylme4_spec_update_formula <- function(base, change) {
  old <- if (is.character(base)) stats::as.formula(base) else stats::formula(base)
  f <- stats::update.formula(old, stats::as.formula(change))
  paste(deparse(f, width.cutoff = 500L), collapse = " ")
}
