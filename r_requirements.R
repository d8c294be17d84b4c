# R packages pylme4 needs, for machines without Debian's r-cran-* packages.
#
#   Rscript r_requirements.R
#
# Installs what is missing from CRAN into the first library on .libPaths()
# and then checks every package against the minimum version pylme4 was
# tested with.  On Debian/Ubuntu as root, `make setup` uses apt instead.
minimum <- c(
  lme4     = "1.1-31",
  lmerTest = "3.1-3",
  Matrix   = "1.5-3",
  boot     = "1.3-28",
  pbkrtest = "0.5.1",
  optimx   = "2022-4.30",
  dfoptim  = "2020.10-1",
  # the post-fit toolbox: emmeans, car::Anova, performance's R2/ICC, broom.mixed
  emmeans     = "1.8.4",
  car         = "3.1-1",
  performance = "0.10.2",
  insight     = "0.19.0",
  broom.mixed = "0.2.9.4"
)

repos <- getOption("repos")
if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
  repos <- c(CRAN = "https://cloud.r-project.org")
}

missing <- names(minimum)[!vapply(names(minimum), requireNamespace, TRUE, quietly = TRUE)]
if (length(missing)) {
  message("installing: ", paste(missing, collapse = ", "))
  install.packages(missing, repos = repos)
}

problems <- character()
for (pkg in names(minimum)) {
  if (!requireNamespace(pkg, quietly = TRUE)) {
    problems <- c(problems, sprintf("%s is not installed", pkg))
  } else if (utils::packageVersion(pkg) < minimum[[pkg]]) {
    problems <- c(problems, sprintf("%s %s is older than %s", pkg,
                                    utils::packageVersion(pkg), minimum[[pkg]]))
  }
}
if (length(problems)) {
  stop("R packages not ready:\n  ", paste(problems, collapse = "\n  "), call. = FALSE)
}
message("R packages ready: ", paste(names(minimum), collapse = ", "))
